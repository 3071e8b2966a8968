"""The main job on the embedded defaults, end to end: pictures of the avatar and its hand
shapes, a small lexicon fitted from real fingerspelling clips, text signed into a
project, a captioned video seen through the hands camera, an SMPL-X motion file and a
contact sheet of the signed letters. Each step goes through the same workflow a user's
command would, and ``say`` is told the equivalent command line, so the demo teaches
the CLI as it runs."""
from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.jobs import CancelToken, Progress, no_progress
from engine.workflows.export import ExportOptions


@dataclass(frozen=True)
class DemoOptions:
    out: Path = Path("signstudio-demo")
    text: str = "hello"
    language: str = "ase"
    workers: int = 1
    width: int = 640
    height: int = 480
    avatar: str = "default"
    smplx_dir: str | None = None


@dataclass(frozen=True)
class DemoResult:
    project: Path
    video: Path
    motion: Path
    sheet: Path
    lexicon: Path
    timings: tuple[str, ...]


def demo_slug(text: str) -> str:
    """A file-name stem for ``text``: its words in lower case joined by '-'."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:40] or "signing"


def run_demo(options: DemoOptions, *, say: Callable[[str], None] = lambda line: None,
             progress: Progress = no_progress, cancel: CancelToken | None = None) -> DemoResult:
    """Run the demo into ``options.out`` (kept between runs: a second run only fits the
    letters the lexicon does not hold yet). ``say``: one line at a time for the user."""
    from engine.body import load_body_model
    from engine.data.lexicon import LexiconStore
    from engine.workflows.export import export_project
    from engine.workflows.generate import GenerateOptions, generate_signing

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    started = last = time.perf_counter()
    timings: list[str] = []

    def step_done(step: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings.append(f"{step} {now - last:.1f} s")
        last = now

    def shown(*argv: str) -> None:
        say("$ signstudio-cli " + shlex.join(argv))

    # The lexicon first: a bad language or a damaged lexicon file fails before any work.
    lexicon = out / "lexicon.sqlite"
    slug = demo_slug(options.text)
    project_path = out / f"{slug}.signstudio"
    with LexiconStore(lexicon) as store:
        fit_demo_letters(store, options.text, options.language, options.workers, say=say,
                         progress=progress, cancel=cancel)
        step_done("lexicon")
        body = load_body_model(options.avatar, smplx_dir=options.smplx_dir)
        demo_pictures(body, out, options.width, options.height, say=say)
        step_done("pictures")
        shown("generate", options.text, "--lang", options.language, "--db", str(lexicon),
              "-o", str(project_path))
        generation = generate_signing(store, options.text, GenerateOptions(options.language),
                                      progress=progress, cancel=cancel)
    project = generation.project.replace(avatar=options.avatar)
    export_project(project, project_path)
    step_done("generate")

    video_options = ExportOptions(width=options.width, height=options.height,
                                  camera="hands", smplx_dir=options.smplx_dir)
    video = out / f"{slug}.mp4"
    shown("export", str(project_path), "-o", str(video), "--camera", "hands",
          "--width", str(options.width), "--height", str(options.height))
    try:
        export_project(project, video, video_options, progress=progress, cancel=cancel)
    except RuntimeError as error:  # an ffmpeg without H.264 can still write a GIF
        say(f"could not write {video.name} ({str(error).splitlines()[0]}); writing a GIF")
        video = video.with_suffix(".gif")
        export_project(project, video, video_options, progress=progress, cancel=cancel)
    motion = out / f"{slug}.npz"
    shown("export", str(project_path), "-o", str(motion))
    export_project(project, motion)
    step_done("export")

    sheet = out / f"{slug}_letters.png"
    letters_sheet(body, project, sheet, options.height)
    say(f"wrote {sheet}")
    step_done("contact sheet")

    say(f"demo done in {time.perf_counter() - started:.1f} s ({', '.join(timings)})")
    say(f"open {project_path} in `signstudio`, play {video}; sign other {options.language} "
        f"text with `signstudio-cli generate TEXT --lang {options.language} --db {lexicon} "
        f"-o OUT` (`signstudio-cli lexicon build --lang {options.language} --db {lexicon}` "
        "fits the whole alphabet first)")
    return DemoResult(project_path, video, motion, sheet, lexicon, tuple(timings))


def fit_demo_letters(store, text: str, language: str, workers: int, *,
                     say: Callable[[str], None] = lambda line: None,
                     progress: Progress = no_progress, cancel: CancelToken | None = None) -> None:
    """Fit into ``store`` the package's fingerspelling clips of ``language`` that
    spelling ``text`` needs (already stored clips are skipped, so a second run is quick).

    The letters written in the text come first: one clip takes ~1.5 s to fit, a whole
    alphabet ~25 clips. Where spelling then needs letters the text does not show (an
    accented letter spelled by its base letter, a number written out in words) or finds
    no sign, the rest of the alphabet is fitted too.
    """
    from engine.data.lexicon_build import build_from_package
    from engine.generate.text import text_to_tokens
    from engine.workflows.lexicon import letters_in_text

    def fit(glosses: list[str] | None) -> None:
        report = build_from_package(store, [language], glosses=glosses, progress=progress,
                                    cancel=cancel, workers=workers)
        say(f"lexicon {store.path}: {report.summary()}")

    in_text = letters_in_text(text, language)
    fit(in_text or None)
    if in_text and any(token.note for token in text_to_tokens(text, language, store)):
        say(f"spelling {text!r} needs more than the letters it shows: fitting the whole "
            f"{language} alphabet")
        fit(None)


def demo_pictures(body, out: Path, width: int, height: int, *,
                  say: Callable[[str], None] = lambda line: None) -> None:
    """PNGs of the avatar (rest T-pose, arms down; whole body) and of each right-hand
    shape of ``RIGHT_HAND_SHAPES`` raised in signing space, seen through the "hands"
    close-up, which centres the raised hand. ``width`` x ``height`` pixels."""
    from engine.body.reference_poses import RIGHT_HAND_SHAPES, arms_down, signing_pose
    from engine.export.render import OffscreenRenderer, write_image
    from engine.motion import Motion

    rest = Motion.zeros(1)
    standing = arms_down(rest)
    # Both avatar pictures are aimed at the arms-down pose: the full_body focus is the
    # mean of all 55 joints, and the T-pose's 30 finger joints at shoulder height lift
    # it enough to cut off the feet. The T-pose's arms still fit in the width.
    pictures = {"rest_t_pose": (rest, "full_body", standing),
                "arms_down": (standing, "full_body", standing)}
    # The hand-shape pictures share one camera, aimed at all of them: the close-up frames
    # every finger joint, so a flat hand (fingers up) and a fist would each be centred
    # differently, and the pictures would not compare shape for shape.
    shapes = Motion.concatenate([signing_pose(shape) for shape in RIGHT_HAND_SHAPES])
    for shape in RIGHT_HAND_SHAPES:
        pictures[f"right_{shape}"] = (signing_pose(shape), "hands", shapes)
    with OffscreenRenderer(body, width, height) as renderer:
        for name, (pose, camera, aim) in pictures.items():
            renderer.set_camera(camera, body.forward(aim).joints)
            path = out / f"{name}.png"
            write_image(path, renderer.render(body.forward(pose).vertices[0]))
            say(f"wrote {path}")


def letters_sheet(body, project, path: Path, size: int, columns: int = 8) -> None:
    """A PNG of the right hand in the middle of each segment's clip: ``size`` x ``size``
    pixels per segment, ``columns`` to a row, each labelled "GLOSS @FRAME".

    The middle of the sign's own frames, not the hold after them: every recording holds
    its letter mid-clip, while the held frame (the end of the articulation span that
    ``engine.generate.assemble`` keeps) may already be relaxing a little.
    """
    import numpy as np
    from PIL import Image, ImageDraw

    from engine.atomic import atomic_output
    from engine.export.thumbnails import HandThumbnails
    from engine.export.video import caption_font

    segments = project.segments
    frames = [(segment.start + segment.end - segment.hold - 1) // 2 for segment in segments]
    with HandThumbnails(body, size=size) as thumbnails:
        panels = thumbnails(project.motion, frames)
    columns = min(columns, len(panels))
    rows = -(-len(panels) // columns)
    grid = np.full((rows * size, columns * size, 3), 255, np.uint8)
    corners = [(size * (i % columns), size * (i // columns)) for i in range(len(panels))]
    for (x, y), panel in zip(corners, panels):
        grid[y:y + size, x:x + size] = panel
    sheet = Image.fromarray(grid)
    draw = ImageDraw.Draw(sheet)
    font = caption_font(max(10, size // 8))
    for (x, y), segment, frame in zip(corners, segments, frames):
        draw.text((x + size // 20, y + size // 20), f"{segment.gloss} @{frame}", font=font,
                  fill=(0, 0, 0))
    with atomic_output(path) as temp:
        sheet.save(temp, format="PNG")
