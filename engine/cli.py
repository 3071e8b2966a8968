"""``signstudio-cli``: the engine's command line (the GUI is optional).

Subcommands: ``info``, ``config``, ``demo``, ``render``, ``check-project``, ``lexicon``,
``generate``, ``find-sign``, ``export``. Later issues add train and eval. Errors print one clear line and exit 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import engine


def _body(args: argparse.Namespace):
    from engine.body import load_body_model

    return load_body_model(getattr(args, "avatar", "default"),
                           smplx_dir=getattr(args, "smplx_dir", None))


def cmd_info(args: argparse.Namespace) -> int:
    from engine.assets import assets_dir
    from engine.body import SmplxModelNotFound, default_avatar
    from engine.body.smplx_model import find_smplx_model_file, read_smplx_model_file

    avatar = default_avatar()
    print(f"Sign Studio engine {engine.__version__}")
    print(f"assets: {assets_dir()}")
    print(f"default avatar: {avatar.num_vertices} vertices, {len(avatar.faces)} triangles, "
          f"{len(avatar.blendshape_names_supported)} face blendshapes")
    from engine.settings import resolve_smplx_dir, settings_path

    print(f"settings: {settings_path()}")
    smplx_dir = resolve_smplx_dir(args.smplx_dir)
    try:
        checked = read_smplx_model_file(find_smplx_model_file(smplx_dir))
        print(f"SMPL-X: {checked.path}")
        for member, why in sorted(checked.ignored.items()):
            print(f"  ignored member '{member}': {why}")
    except SmplxModelNotFound as error:
        print(f"SMPL-X: unavailable: {error}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Show, change or reset the saved settings (shared with the studio). A damaged file
    is repaired by ``set`` or ``reset``, which keep it aside first."""
    from engine.settings import (
        FIELDS, Settings, keep_damaged_settings, read_settings, save_settings, settings_path,
    )

    settings = read_settings().settings
    if args.action in ("set", "reset"):
        if args.action == "set":
            if args.key not in FIELDS:
                raise ValueError(f"config: unknown setting '{args.key}'; expected one of {FIELDS}")
            if args.value is None:
                raise ValueError(f"config set {args.key}: expected a value")
            settings = settings.replace(**{args.key: args.value})
        else:
            settings = Settings()
        backup = keep_damaged_settings()
        if backup is not None:
            print(f"kept the damaged settings file as {backup}")
        print(f"wrote {save_settings(settings)}")
    print(f"# {settings_path()}")
    for name in FIELDS:
        print(f"{name} = {getattr(settings, name)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job end to end on the embedded avatar and the package's real clips:
    pictures of the avatar and of each hand shape, a small lexicon fitted from real
    fingerspelling recordings, ``--text`` signed into a project, exported as a captioned
    video and an SMPL-X motion file, and a contact sheet of the signed letters."""
    import time

    from engine.data.lexicon import LexiconStore
    from engine.motion import load_project

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = last = time.perf_counter()
    timings: list[str] = []

    def step_done(step: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings.append(f"{step} {now - last:.1f} s")
        last = now

    # The lexicon first: a bad --lang or a damaged lexicon file fails before any work.
    lexicon = out / "lexicon.sqlite"
    with LexiconStore(lexicon) as store:
        _demo_fit_letters(store, args.text, args.lang, args.workers)
    step_done("lexicon")

    body = _body(args)
    _demo_pictures(body, out, args.width, args.height)
    step_done("pictures")

    slug = _demo_slug(args.text)
    project_path = out / f"{slug}.signstudio"
    _demo_command(["generate", args.text, "--lang", args.lang, "--db", str(lexicon),
                   "-o", str(project_path)])
    step_done("generate")

    avatar = (["--avatar", args.avatar] if args.avatar != "default" else []) + (
        ["--smplx-dir", args.smplx_dir] if args.smplx_dir else [])
    video_options = ["--camera", "hands", "--width", str(args.width),
                     "--height", str(args.height)] + avatar
    video = out / f"{slug}.mp4"
    try:
        _demo_command(["export", str(project_path), "-o", str(video)] + video_options)
    except RuntimeError as error:  # an ffmpeg without H.264 can still write a GIF
        print(f"could not write {video.name} ({str(error).splitlines()[0]}); writing a GIF")
        video = video.with_suffix(".gif")
        _demo_command(["export", str(project_path), "-o", str(video)] + video_options)
    _demo_command(["export", str(project_path), "-o", str(out / f"{slug}.npz")])
    step_done("export")

    sheet = out / f"{slug}_letters.png"
    _demo_contact_sheet(body, load_project(project_path), sheet, args.height)
    print(f"wrote {sheet}")
    step_done("contact sheet")

    print(f"demo done in {time.perf_counter() - started:.1f} s ({', '.join(timings)})")
    print(f"open {project_path} in `signstudio`, play {video}; sign other {args.lang} text "
          f"with `signstudio-cli generate TEXT --lang {args.lang} --db {lexicon} -o OUT` "
          f"(`signstudio-cli lexicon build --lang {args.lang} --db {lexicon}` fits the "
          f"whole alphabet first)")
    return 0


def _demo_command(argv: list[str]) -> None:
    """Run one ``signstudio-cli`` command in-process, shown as the user would type it."""
    import shlex

    print("$ signstudio-cli " + shlex.join(argv))
    args = build_parser().parse_args(argv)
    status = args.func(args)
    if status != 0:
        raise ValueError(f"`signstudio-cli {argv[0]}` exited with status {status}")


def _demo_pictures(body, out: Path, width: int, height: int) -> None:
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
    for shape in RIGHT_HAND_SHAPES:
        pose = signing_pose(shape)
        pictures[f"right_{shape}"] = (pose, "hands", pose)
    with OffscreenRenderer(body, width, height) as renderer:
        for name, (pose, camera, aim) in pictures.items():
            renderer.set_camera(camera, body.forward(aim).joints)
            path = out / f"{name}.png"
            write_image(path, renderer.render(body.forward(pose).vertices[0]))
            print(f"wrote {path}")


def _demo_fit_letters(store, text: str, language: str, workers: int) -> None:
    """Fit into ``store`` the package's fingerspelling clips of ``language`` that
    spelling ``text`` needs (already stored clips are skipped, so a second run is quick).

    The letters (and multi-letter signs) written in the text come first: one clip takes
    ~1.5 s to fit, a whole alphabet ~25 clips. Where spelling then needs letters the
    text does not show (an accented letter spelled by its base letter, a number written
    out in words) or finds no sign, the rest of the alphabet is fitted too.
    """
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon import word_key
    from engine.data.lexicon_build import build_from_package
    from engine.generate.text import text_to_tokens

    def fit(glosses: list[str] | None) -> None:
        bar = _Bar(f"fitting {language} clips")
        try:
            report = build_from_package(store, [language], glosses=glosses, progress=bar,
                                        workers=workers)
        finally:
            bar.close()
        print(f"lexicon {store.path}: {report.summary()}")

    written = word_key(text).replace("\u0640", "")  # as the speller reads a word
    letters = {clip.glosses: word_key(clip.words) for clip in load_index().for_language(language)}
    in_text = sorted(gloss for gloss, key in letters.items() if key and key in written)
    fit(in_text or None)
    if in_text and any(token.note for token in text_to_tokens(text, language, store)):
        print(f"spelling {text!r} needs more than the letters it shows: fitting the whole "
              f"{language} alphabet")
        fit(None)


def _demo_slug(text: str) -> str:
    """A file-name stem for ``text``: its words in lower case joined by '-'."""
    import re

    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:40] or "signing"


def _demo_contact_sheet(body, project, path: Path, size: int, columns: int = 8) -> None:
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


def cmd_render(args: argparse.Namespace) -> int:
    from engine.export.render import OffscreenRenderer, write_image
    from engine.motion import load_project

    project = load_project(args.project)
    motion = project.motion
    if not 0 <= args.frame < motion.num_frames:
        raise ValueError(f"--frame: expected 0..{motion.num_frames - 1}, got {args.frame}")
    body = _body(args)
    posed = body.forward(motion, slice(args.frame, args.frame + 1))
    with OffscreenRenderer(body, args.width, args.height) as renderer:
        renderer.set_camera(args.camera, posed.joints)
        write_image(args.output, renderer.render(posed.vertices[0]))
    print(f"wrote {args.output}")
    return 0


class _Bar:
    """A tqdm bar as a Progress callback (to stderr, so --json output stays clean)."""

    def __init__(self, description: str):
        from tqdm import tqdm

        self._bar = tqdm(desc=description, unit="step", file=sys.stderr, leave=True)

    def __call__(self, done: int, total: int, message: str = "") -> None:
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _store(args: argparse.Namespace):
    from engine.data.lexicon import LexiconStore

    return LexiconStore(args.db)


def cmd_lexicon(args: argparse.Namespace) -> int:
    import json

    from engine.data.lexicon import LexiconDamaged, LexiconStore, set_aside
    from engine.data.lexicon_build import add_video, build_from_package

    try:
        store = _store(args)
    except LexiconDamaged as error:
        if args.action != "build":
            raise
        # A rebuild starts a new database; the damaged one is kept, never deleted.
        kept = set_aside(error.path)
        print(f"{error.path}: damaged ({error.problem.split(';')[0]}); kept it as {kept} "
              "and started a new lexicon", file=sys.stderr)
        store = LexiconStore(error.path)
    with store:
        if args.action in ("build", "add", "add-notation", "add-sigml") and store.read_only:
            raise ValueError(f"lexicon {args.action} refused: {store.read_only}; listing and "
                             "generating still work")
        if args.action == "build":
            bar = _Bar("fitting clips")
            try:
                report = build_from_package(store, args.lang or None,
                                            glosses=[args.gloss] if args.gloss else None,
                                            progress=bar, workers=args.workers)
            finally:
                bar.close()
            print(report.summary())
            if not args.lang or "sgg" in args.lang:
                from engine.data.lexicon_build import build_from_notation

                bar = _Bar("DSGS signs from notation")
                try:
                    notation_report = build_from_notation(
                        store, glosses=[args.gloss] if args.gloss else None,
                        timing=_notation_timing(), progress=bar)
                finally:
                    bar.close()
                print("DSGS signs: " + notation_report.summary())
            print(f"lexicon: {store.path} ({len(store)} entries)")
            return 0 if not report.failed else 1
        if args.action == "add-notation":
            from engine.data.lexicon_build import add_notation
            from engine.generate.from_notation import hamnosys_text

            if not args.video or not args.gloss or not args.lang:
                raise ValueError('lexicon add-notation: expected "HAMNOSYS" --gloss G --lang L')
            entry_id = add_notation(store, hamnosys_text(args.video), args.gloss, args.lang[0],
                                    words=args.word or (), timing=_notation_timing())
            print(f"added {args.gloss} ({args.lang[0]}) from notation as entry {entry_id}")
            return 0
        if args.action == "add-sigml":
            from engine.data.lexicon_build import add_sigml

            if not args.video or not args.lang:
                raise ValueError("lexicon add-sigml: expected FILE --lang L")
            ids = add_sigml(store, args.video, args.lang[0], timing=_notation_timing())
            print(f"added {len(ids)} signs from {args.video} ({args.lang[0]}): entries "
                  + ", ".join(map(str, ids)))
            return 0
        if args.action == "add":
            if not args.video or not args.gloss or not args.lang:
                raise ValueError("lexicon add: expected VIDEO --gloss G --lang L")
            bar = _Bar(f"reconstructing {args.gloss}")
            try:
                entry_id = add_video(store, args.video, args.gloss, args.lang[0],
                                     words=args.word or (), progress=bar)
            finally:
                bar.close()
            summary = next(s for s in store.list(args.lang[0]) if s.id == entry_id)
            print(f"added {summary.gloss} ({summary.language}) as entry {entry_id}: "
                  f"{summary.num_frames} frames, quality {summary.quality}")
            return 0
        entries = [e for lang in (args.lang or [None]) for e in store.list(lang)]
        if args.json:
            print(json.dumps([e.__dict__ for e in entries], ensure_ascii=False, indent=1))
            return 0
        for e in entries:
            error = e.quality.get("hand_error_median")
            quality = f"{error:.3f}" if isinstance(error, (int, float)) else "-"
            print(f"{e.id:5d}  {e.language}  {e.kind:6s}  {e.gloss:10s}  "
                  f"{e.num_frames:4d} fr @{e.fps:g}  err {quality}  {e.source}"
                  + (f"  [damaged row: {e.problem}]" if e.problem else ""))
        damaged = sum(bool(e.problem) for e in entries)
        print(f"{len(entries)} entries in {store.path}"
              + (f"; {damaged} with damaged fields (marked)" if damaged else ""))
        return 0


def cmd_generate(args: argparse.Namespace) -> int:
    import json

    from engine.generate.assemble import Timing, assemble
    from engine.generate.text import coverage_report, text_to_tokens

    with _store(args) as store:
        tokens = list(text_to_tokens(args.text, args.lang, store))
        report = coverage_report(tokens)
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            for token in report["tokens"]:
                glosses = "-".join(token["glosses"]) or "-"
                note = f"  ({token['note']})" if token["note"] else ""
                print(f"  {token['text']:>16s}  {token['kind']:13s}  {glosses}{note}")
        project = assemble(tokens, store, args.lang, Timing(fps=args.fps), title=args.text)
    output = Path(args.output)
    _write_output(project, output, args)
    if not args.json:
        print(f"wrote {output}: {project.motion}, {len(project.segments)} segments")
    return 0


def cmd_find_sign(args: argparse.Namespace) -> int:
    """Image of a handshape -> the best-matching lexicon entries, by MediaPipe hand
    landmarks, by CLIP image embeddings (``--route clip``, needs local weights), or both."""
    from engine.generate.image_match import ImageQueryError, match_image

    routes = ["mediapipe", "clip"] if args.route == "both" else [args.route]
    encoder = None
    if "clip" in routes:  # fail on missing weights before any slow work
        from engine.learn.encoders import configured_clip_encoder

        encoder = configured_clip_encoder(args.clip_weights, args.clip_model)
        if encoder is None:
            raise ValueError("find-sign --route clip: no CLIP weights configured; pass "
                             "--clip-weights PATH, set $SIGNSTUDIO_CLIP_WEIGHTS or run "
                             "`signstudio-cli config set clip_weights PATH`")
    found_any = False
    with _store(args) as store:
        for route in routes:
            if len(routes) > 1:
                print("MediaPipe handshape:" if route == "mediapipe" else
                      f"CLIP image ({encoder.model_name}):")
            if route == "mediapipe":
                try:
                    matches = match_image(args.image, store, args.lang, top=args.top,
                                          mirrored=args.selfie)
                except ImageQueryError as error:
                    if len(routes) == 1 or "no hand found" not in error.problem:
                        raise
                    print(f"   {error}")  # the CLIP route may still answer
                    continue
            else:
                matches = _clip_matches(args, store, encoder)
            found_any = found_any or bool(matches)
            for rank, match in enumerate(matches, start=1):
                print(f"{rank}. {match.entry.gloss} ({match.entry.language}, entry "
                      f"{match.entry.id}): score {match.score:.2f}")
    return 0 if found_any else 1


def _clip_matches(args: argparse.Namespace, store, encoder) -> list:
    from engine.export.thumbnails import HandThumbnails
    from engine.generate.clip_match import ClipIndex, match_image_clip
    from engine.generate.image_match import read_query_image

    image = read_query_image(args.image)  # a bad image fails before the index is built
    bar = _Bar("CLIP thumbnails")
    try:
        with HandThumbnails() as thumbnails:
            index = ClipIndex.build(store, args.lang, encoder, thumbnails, progress=bar)
    finally:
        bar.close()
    if index.rendered:
        print(f"   (embedded {index.rendered} signs, cached in {index.cache_path})",
              file=sys.stderr)
    return match_image_clip(image, args.lang, store, encoder, thumbnails, args.top,
                            index=index)


def _load_input(path: str):
    """A .signstudio project, or a recording (video, .pose) or motion file as a new
    project with keyframes at each sign the segmenter finds."""
    from engine.motion import load_project

    if Path(path).suffix.lower() == ".signstudio":
        return load_project(path)
    from engine.export.recording import import_recording

    return import_recording(path)


def _write_output(project, output: Path, args: argparse.Namespace) -> None:
    """Write ``project`` as ``output``'s extension says: a project, a video, a .glb or a
    motion file. Video options come from ``args`` where the command has them."""
    suffix = output.suffix.lower()
    from engine.export.video import VIDEO_FORMATS

    if suffix == ".signstudio":
        from engine.motion import save_project

        save_project(project, output)
    elif suffix in VIDEO_FORMATS:
        from engine.export.video import captions_from_segments, export_video, signs_span

        captions = (captions_from_segments(project.segments)
                    if getattr(args, "captions", True) else None)
        bar = _Bar(f"rendering {output.name}")
        try:
            export_video(project.motion, output, body=_body(args),
                         width=getattr(args, "width", 1280),
                         height=getattr(args, "height", 720), fps=getattr(args, "fps", None),
                         camera=getattr(args, "camera", "front"), captions=captions,
                         anti_aliasing=getattr(args, "anti_aliasing", "none"),
                         aim_frames=signs_span(project.segments), progress=bar)
        finally:
            bar.close()
    elif suffix == ".glb":
        from engine.export.gltf import write_glb

        write_glb(project.motion, output)
    elif suffix == ".sigml":
        from engine.generate.from_notation import sigml_signs
        from engine.notation.sigml import write_sigml

        signs, missing = sigml_signs(project)
        if not signs:
            raise ValueError(f"{output}: no sign of this project was made from notation, so "
                             "there is nothing to write as SiGML")
        write_sigml(signs, output)
        if missing:
            print(f"{output}: {len(missing)} signs have no notation and were left out: "
                  + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""),
                  file=sys.stderr)
    else:
        from engine.export.motion_files import write_motion_file

        write_motion_file(project.motion, output)


def cmd_export(args: argparse.Namespace) -> int:
    """Project or motion file -> video (.mp4/.gif/.webm), motion file or SiGML."""
    outputs = [Path(p) for p in (args.output, args.sigml) if p]
    if not outputs:
        raise ValueError("export: expected -o OUTPUT and/or --sigml FILE")
    if args.sigml and Path(args.sigml).suffix.lower() != ".sigml":
        raise ValueError(f"--sigml {args.sigml}: expected a file name ending in .sigml")
    project = _load_input(args.input)
    for output in outputs:
        _write_output(project, output, args)
        print(f"wrote {output} ({project.motion})")
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    """Lexicon signs made from notation -> a contact sheet PNG (SignWriting beside the
    avatar's first, middle and last posture)."""
    from engine.export.notation_sheet import SheetSign, notation_sheet

    signs, missing = [], []
    with _store(args) as store:
        for gloss in args.glosses:
            found = [s for s in store.find_gloss(args.lang, gloss) if s.notation]
            if found:
                signs.append(SheetSign(gloss, found[-1].notation, found[-1].signwriting))
            else:
                missing.append(gloss)
    if missing:
        raise ValueError(f"no {args.lang} sign made from notation for: {', '.join(missing)} "
                         f"(`signstudio-cli lexicon list --lang {args.lang}` lists them)")
    path = notation_sheet(signs, args.output, _body(args), tile=args.tile)
    print(f"wrote {path}: {len(signs)} signs")
    return 0


def _notation_timing(fps: float = 30.0):
    """The synthesiser's timing at the saved ``signing_speed`` setting."""
    from engine.notation.synthesis import timing_for
    from engine.settings import load_settings

    return timing_for(load_settings(), fps)


def cmd_sign(args: argparse.Namespace) -> int:
    """HamNoSys (symbols or names) -> one sign as a project, video or motion file."""
    from engine.generate.from_notation import project_from_notation

    project = project_from_notation(args.notation, gloss=args.gloss or "", language=args.lang,
                                    body=_body(args), timing=_notation_timing(fps=args.fps))
    output = Path(args.output)
    _write_output(project, output, args)
    print(f"wrote {output}: {project.motion}, {len(project.keyframes)} keyframes at its "
          "postures")
    return 0


def cmd_check_project(args: argparse.Namespace) -> int:
    from engine.motion import load_project

    project = load_project(args.project)
    print(f"{args.project}: OK, '{project.title}', {project.motion}, "
          f"{len(project.keyframes)} keyframes, {len(project.segments)} segments, "
          f"avatar {project.avatar.value}")
    return 0


# ------------------------------------------------------------------ learned models
#: Name -> (module, trainer, config class) for ``signstudio-cli train``. Imported lazily:
#: torch models cost seconds to import and most commands never need them.
_TRAINERS = {
    "flow": ("engine.learn.train_flow", "train_flow", "FlowTrainConfig"),
    "cvae": ("engine.learn.train_cvae", "train_cvae", "CvaeTrainConfig"),
    "recognizer": ("engine.learn.train_recognizer", "train_recognizer", "RecognizerTrainConfig"),
    "segmenter": ("engine.learn.train_segmenter", "train_segmenter", "SegmenterTrainConfig"),
}


def _parse_settings(items: list[str] | None, config) -> dict:
    """``--set NAME=VALUE`` items -> {field: value}, VALUE read as JSON when it parses
    (numbers, true/false, lists) and as a string otherwise; NAME must be a field of the
    trainer's config, and the value must have that field's default's type."""
    import dataclasses
    import json

    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    out = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        if not sep or name not in fields:
            raise SystemExit(f"--set {item}: expected NAME=VALUE with NAME one of "
                             f"{', '.join(sorted(fields))}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        default = fields[name]
        if isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, (int, float)) and not isinstance(value, (int, float))):
            raise SystemExit(f"--set {item}: {name} expects a {type(default).__name__} "
                             f"(default {default!r})")
        if isinstance(default, float):
            value = float(value)
        elif isinstance(default, tuple):
            value = tuple(value) if isinstance(value, list) else (value,)
        out[name] = value
    return out


def _train_config(config_class, steps: int | None, seed: int | None, held_out: tuple[str, ...],
                  settings: list[str] | None = None):
    """The model's default config with the command line's overrides, whatever the
    config's shape (flat fields, or a nested ``TrainConfig`` under ``train``).
    ``settings``: ``--set NAME=VALUE`` items for any other field of the config."""
    import dataclasses

    config = config_class()
    config = dataclasses.replace(config, **_parse_settings(settings, config))
    general = {k: v for k, v in (("steps", steps), ("seed", seed)) if v is not None}
    names = {f.name for f in dataclasses.fields(config)}
    if "train" in names:  # the loop's settings live in a nested TrainConfig
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, **general))
    else:
        config = dataclasses.replace(config, **general)
    if held_out:
        field = next((n for n in ("held_out_languages", "held_out_langs") if n in names), None)
        if field is None:
            raise SystemExit("--held-out-langs is not supported by this model's trainer")
        config = dataclasses.replace(config, **{field: held_out})
    return config


def cmd_train(args: argparse.Namespace) -> int:
    import importlib

    from engine.data.lexicon import default_lexicon_path
    from engine.jobs import Cancelled

    module_name, function_name, config_name = _TRAINERS[args.model]
    module = importlib.import_module(module_name)
    held_out = tuple(x for x in (args.held_out_langs or "").split(",") if x)
    config = _train_config(getattr(module, config_name), args.steps, args.seed, held_out,
                           args.set)
    lexicon = Path(args.db) if args.db else default_lexicon_path()
    if not lexicon.is_file():
        raise SystemExit(f"{lexicon}: no lexicon database; run `signstudio-cli lexicon build` first")
    extra = {}
    if args.clip_weights:
        if args.model != "cvae":
            raise SystemExit("--clip-weights: only the cvae is conditioned through CLIP")
        from engine.learn.encoders import ClipEncoder

        extra["encoder"] = ClipEncoder.from_path(args.clip_weights, args.clip_model or "ViT-B-32")
    bar = _Bar(f"train {args.model}")
    try:
        result = getattr(module, function_name)(str(lexicon), args.out, config, resume=args.resume,
                                                progress=bar, **extra)
    except KeyboardInterrupt:
        print("\ninterrupted; resume with the same command plus --resume", file=sys.stderr)
        return 130
    except Cancelled:
        return 130
    finally:
        bar.close()
    print(f"wrote {result.path} after {result.steps} steps "
          f"(loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f})")
    return 0


def _evaluate_generation(lexicon: Path, args: argparse.Namespace, progress) -> tuple[dict, str]:
    from engine.generate.flow_backend import FlowKF2P
    from engine.learn.cvae import load_cvae
    from engine.learn.eval_generation import (cvae_generator, evaluate_generation,
                                              format_generation_table)

    flow = FlowKF2P.from_checkpoint(args.flow)

    def flow_generator(label: str, num_frames: int, num_candidates: int, seed: int):
        return list(flow.text_to_pose(label, num_frames, num_candidates=num_candidates,
                                      seed=seed).features)

    generators = {"cvae": cvae_generator(load_cvae(_model_path(args.cvae, "cvae"))),
                  "flow text-to-pose": flow_generator}
    result = evaluate_generation(str(lexicon), generators,
                                 _model_path(args.recognizer, "recognizer"), progress=progress)
    return result, format_generation_table(result)


def _model_path(given: str | None, name: str) -> Path:
    from engine.assets import asset_path

    return Path(given) if given else asset_path(f"models/{name}.pt")


def _load_given_models(args: argparse.Namespace) -> None:
    """Load (and so check) each checkpoint named on the command line before the
    evaluation's data work, so a damaged or hostile file is refused in a second."""
    from engine.generate.flow_backend import FlowKF2P
    from engine.learn.recognizer import load_recognizer
    from engine.learn.segmenter import load_segmenter

    for path in (args.flow, args.flow_languages):
        if path:
            FlowKF2P.from_checkpoint(path)
    if args.recognizer:
        load_recognizer(args.recognizer)
    if args.segmenter:
        load_segmenter(args.segmenter)


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from engine.atomic import atomic_output
    from engine.data.lexicon import default_lexicon_path

    lexicon = Path(args.db) if args.db else default_lexicon_path()
    if not lexicon.is_file():
        raise SystemExit(f"{lexicon}: no lexicon database; run `signstudio-cli lexicon build` first")
    wanted = args.only or ["kf2p", "generation", "segmenter"]
    _load_given_models(args)
    report: dict = {"lexicon": str(lexicon)}
    for part in wanted:
        bar = _Bar(f"eval {part}")
        try:
            if part == "kf2p":
                from engine.generate.eval_kf2p import evaluate_kf2p, format_kf2p_table

                for split in ("clips", "languages"):
                    checkpoint = args.flow if split == "clips" else args.flow_languages
                    if split == "languages" and not checkpoint:
                        continue  # needs a model trained without those languages
                    result = evaluate_kf2p(str(lexicon), split=split, checkpoint=checkpoint,
                                           max_clips=args.max_clips, progress=bar)
                    report[f"kf2p_{split}"] = result
                    print(f"\nKF2P on held-out {split}\n" + format_kf2p_table(result))
            elif part == "generation":
                result, table = _evaluate_generation(lexicon, args, bar)
                report["generation"] = result
                print("\nText to pose (Acc / FID / Diversity / Multimodality)\n" + table)
            else:
                from engine.learn.train_segmenter import evaluate_segmenter

                result = evaluate_segmenter(str(lexicon), _model_path(args.segmenter, "segmenter"),
                                            progress=bar)
                report["segmenter"] = result
                learned, baseline = result["learned"], result["velocity_baseline"]
                print("\nSegmenter boundary F1 on held-out sequences (±2 frames at 25 fps)\n"
                      f"  learned {learned['boundary_tol2']['f1']:.3f}   velocity baseline "
                      f"{baseline['boundary_tol2']['f1']:.3f}")
        finally:
            bar.close()
    if args.json:
        with atomic_output(args.json) as temp:
            temp.write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


#: Frame rates a generated or exported result may have (video players, ffmpeg).
OUTPUT_FPS = (1.0, 240.0)


def frame_rate(text: str) -> float:
    """An ``--fps`` value, refused outside ``OUTPUT_FPS`` with the accepted range."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    low, high = OUTPUT_FPS
    if not low <= value <= high:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected {low:g} to {high:g} frames per second, "
                                         f"got {text!r}")
    return value


#: Picture sizes a render or video may have (8K UHD at most, per side).
OUTPUT_PIXELS = (16, 7680)


def pixels(text: str) -> int:
    """A ``--width``/``--height`` value, refused outside ``OUTPUT_PIXELS``."""
    low, high = OUTPUT_PIXELS
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels from {low} to "
                                         f"{high}, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from engine.export.render import CAMERA_PRESETS

    parser = argparse.ArgumentParser(prog="signstudio-cli", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=engine.__version__)
    parser.add_argument("--debug", action="store_true",
                        help="on an unexpected error, also print Python's traceback")
    sub = parser.add_subparsers(dest="command", required=True)

    def avatar_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--avatar", choices=["default", "smplx"], default="default",
                       help="body model (smplx needs the licensed model folder)")
        p.add_argument("--smplx-dir", help="folder with SMPLX_NEUTRAL.npz "
                       "(default: $SIGNSTUDIO_SMPLX_DIR)")

    def render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--width", type=pixels, default=640)
        p.add_argument("--height", type=pixels, default=480)
        p.add_argument("--camera", choices=sorted(CAMERA_PRESETS), default="front")

    p = sub.add_parser("info", help="versions, assets and SMPL-X availability")
    p.add_argument("--smplx-dir")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("config", help="show, set or reset saved settings (e.g. smplx_dir)")
    p.add_argument("action", choices=["show", "set", "reset"],
                   help="reset: back to the defaults (a damaged file is kept aside)")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="the main job on the embedded defaults: hand-shape "
                       "pictures, a lexicon from real clips, text to a project, video, contact sheet")
    p.add_argument("--out", default="signstudio-demo", help="output folder")
    p.add_argument("--text", default="hello", help="what to sign (default: hello)")
    p.add_argument("--lang", default="ase", help="sign language code (default: ase, ASL)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="fitting processes (default: one per core)")
    p.add_argument("--width", type=pixels, default=640, help="pixels of pictures and video")
    p.add_argument("--height", type=pixels, default=480)
    avatar_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("render", help="render one frame of a project to PNG")
    p.add_argument("project")
    p.add_argument("--frame", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    avatar_options(p)
    render_options(p)
    p.set_defaults(func=cmd_render)

    def db_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="lexicon database (default: $SIGNSTUDIO_LEXICON, the "
                       "lexicon_path setting, or the user data folder)")

    p = sub.add_parser("lexicon", help="build, add to or list the sign lexicon")
    p.add_argument("action", choices=["build", "add", "add-notation", "add-sigml", "list"],
                   help="build: the package's letters (and, for sgg, its DSGS signs); add: a "
                   "video of one sign; add-notation: a sign from HamNoSys; add-sigml: the "
                   "signs of a SiGML file")
    p.add_argument("video", nargs="?", metavar="SOURCE",
                   help="(add) a video of one sign; (add-notation) HamNoSys, as symbols or "
                   "names such as \"fist extfingeru palmd chest\"; (add-sigml) a .sigml file")
    p.add_argument("--lang", action="append", help="sign language code(s), e.g. ase")
    p.add_argument("--gloss", help="(add) the sign's gloss, e.g. HELLO; (build) only this gloss")
    p.add_argument("--word", action="append", help="(add) spoken word(s) it translates")
    p.add_argument("--json", action="store_true", help="(list) JSON output")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="(build) fitting processes (default: one per core)")
    db_option(p)
    p.set_defaults(func=cmd_lexicon)

    p = sub.add_parser("generate", help="text to a signed motion (project or motion file)")
    p.add_argument("text")
    p.add_argument("--lang", required=True, help="sign language code, e.g. ase")
    p.add_argument("-o", "--output", required=True,
                   help="out.signstudio, a video (.mp4, .gif, .webm) or a motion file "
                   "(.npz, .smpl, .bvh, .pose)")
    p.add_argument("--fps", type=frame_rate, default=30.0,
                   help="frames per second of the result (1 to 240, default 30)")
    p.add_argument("--json", action="store_true", help="print the coverage report as JSON")
    db_option(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("find-sign", help="image of a handshape -> matching lexicon entries")
    p.add_argument("image")
    p.add_argument("--lang", required=True)
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--selfie", action="store_true", help="the image is mirrored (front camera)")
    p.add_argument("--route", choices=["mediapipe", "clip", "both"], default="mediapipe",
                   help="MediaPipe hand landmarks (default, offline), CLIP image embeddings "
                   "of rendered thumbnails (needs local CLIP weights), or both rankings")
    p.add_argument("--clip-weights", help="open_clip weights file or folder (default: "
                   "$SIGNSTUDIO_CLIP_WEIGHTS, then the clip_weights setting); never downloaded")
    p.add_argument("--clip-model", help="open_clip architecture of a weights file "
                   "(default: the clip_model setting, ViT-B-32)")
    db_option(p)
    p.set_defaults(func=cmd_find_sign)

    p = sub.add_parser("sign", help="HamNoSys notation -> one sign (project, video or "
                       "motion file)")
    p.add_argument("notation", help="HamNoSys symbols, or their names separated by spaces "
                   "(\"flathand extfingeru palml chest touch\")")
    p.add_argument("-o", "--output", required=True,
                   help="out.{signstudio,mp4,gif,webm,npz,smpl,bvh,glb,pose,sigml}")
    p.add_argument("--gloss", help="the sign's gloss (default: SIGN)")
    p.add_argument("--lang", default="sgg", help="its sign language (default: sgg, DSGS)")
    p.add_argument("--fps", type=frame_rate, default=30.0,
                   help="frames per second (1 to 240, default 30)")
    render_options(p)
    p.set_defaults(captions=True, anti_aliasing="none")
    avatar_options(p)
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("sheet", help="contact sheet of lexicon signs made from notation: "
                       "SignWriting beside the avatar's postures")
    p.add_argument("glosses", nargs="+", help="glosses, e.g. HAUS KIND WASSER")
    p.add_argument("--lang", default="sgg", help="their sign language (default: sgg, DSGS)")
    p.add_argument("-o", "--output", required=True, help="sheet.png")
    p.add_argument("--tile", type=pixels, default=220, help="pixels per picture")
    db_option(p)
    avatar_options(p)
    p.set_defaults(func=cmd_sheet)

    p = sub.add_parser("export", help="project or motion file -> video, motion file or SiGML")
    p.add_argument("input", help=".signstudio, .npz, .smpl, .bvh or .pose (fitted)")
    p.add_argument("-o", "--output",
                   help="out.{mp4,gif,webm,npz,smpl,bvh,glb,pose,signstudio,sigml}")
    p.add_argument("--sigml", help="also (or only) write the signs made from notation as "
                   "SiGML, for JASigning")
    p.add_argument("--width", type=pixels, default=1280, help="pixels (16 to 7680)")
    p.add_argument("--height", type=pixels, default=720, help="pixels (16 to 7680)")
    p.add_argument("--fps", type=frame_rate,
                   help="frames per second of the result (1 to 240; default: the motion's)")
    p.add_argument("--camera", choices=sorted(CAMERA_PRESETS), default="front")
    p.add_argument("--no-captions", dest="captions", action="store_false",
                   help="do not caption each sign's gloss")
    p.add_argument("--anti-aliasing", choices=["none", "msaa", "ssaa"], default="none",
                   help="smoother edges, slower (none is real time at 720p)")
    avatar_options(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train", help="train a learned model on the lexicon (resumable)")
    p.add_argument("model", choices=sorted(_TRAINERS))
    p.add_argument("--out", required=True, help="checkpoint to write (<out>.resume.pt while training)")
    p.add_argument("--steps", type=int, help="training steps (default: the model's own)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--resume", action="store_true", help="continue from <out>.resume.pt")
    p.add_argument("--held-out-langs", help="comma-separated languages to leave out of training")
    p.add_argument("--clip-weights", help="(cvae) condition through CLIP with these weights")
    p.add_argument("--clip-model", help="(cvae) open_clip architecture (default ViT-B-32)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="any other field of the trainer's config, e.g. "
                        "sample_mean_first=true (repeatable; the manifest records it)")
    db_option(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate the learned models on held-out data")
    p.add_argument("--only", action="append", choices=["kf2p", "generation", "segmenter"],
                   help="evaluate only this part (repeatable; default all)")
    p.add_argument("--flow", help="flow checkpoint (default: the shipped one)")
    p.add_argument("--flow-languages", help="a flow checkpoint trained without some languages: "
                   "adds the held-out-language KF2P table")
    p.add_argument("--cvae", help="CVAE checkpoint (default: the shipped one)")
    p.add_argument("--recognizer", help="recognizer checkpoint (default: the shipped one)")
    p.add_argument("--segmenter", help="segmenter checkpoint (default: the shipped one)")
    p.add_argument("--max-clips", type=int, help="(kf2p) only the first N held-out clips")
    p.add_argument("--json", help="also write the full results as JSON")
    db_option(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("check-project", help="validate a .signstudio file")
    p.add_argument("project")
    p.set_defaults(func=cmd_check_project)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error ends as one ``signstudio-cli: error: ...`` line and
    exit status 2 (Python's traceback only with ``--debug``); Ctrl-C exits 130."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, as the error hint suggests it.
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    args.debug = debug
    from engine.motion.errors import user_message
    from engine.settings import read_settings

    problem = read_settings().problem
    if problem:
        print(f"signstudio-cli: warning: {problem}; using the defaults for it "
              "(`signstudio-cli config reset` or `config set` repairs the file and keeps "
              "the damaged one aside)", file=sys.stderr)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: every writer is atomic, so nothing is half-written
        print("signstudio-cli: cancelled", file=sys.stderr)
        return 130
    except Exception as error:  # the one place an error becomes the user's message
        if args.debug:
            import traceback

            traceback.print_exc()
        expected = isinstance(error, (ValueError, FileNotFoundError, OSError))
        hint = "" if expected or args.debug else " (run with --debug for the details)"
        print(f"signstudio-cli: error: {user_message(error)}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
