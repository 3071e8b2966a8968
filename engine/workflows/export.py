"""Export a project: to a project file, a video, a motion or keypoint file, or SiGML.

The one place an export happens (the CLI's ``export``/``generate``/``sign`` and the
studio's Export dialog call it), so both give the same file for the same options. The
body is the project's avatar (``Project.avatar``), as in the viewport; when SMPL-X is
asked for but its files are missing the default avatar is used and a note says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.export.render import ANTI_ALIASING, CAMERA_PRESETS
from engine.export.video import MAX_SIZE, MIN_SIZE
from engine.face.perform import performed_motion
from engine.io import FileFormat, Kind, format_for
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.errors import UsageError
from engine.motion.motion import MIN_FPS
from engine.motion.project import AvatarChoice, Project

CAMERAS = tuple(CAMERA_PRESETS)
#: Who a video shows: the avatar, or a recorded signer drawn by a photoreal model.
RENDERERS = ("avatar", "photoreal")
#: Pixels per side a video may have.
VIDEO_PIXELS = (MIN_SIZE, MAX_SIZE)
#: Frames per second a result may have.
OUTPUT_FPS = (MIN_FPS, 240.0)  # past 240 no player shows the frames
#: What an export can write (saving the project itself goes through the same function).
EXPORT_KINDS = (Kind.PROJECT, Kind.VIDEO, Kind.MOTION, Kind.KEYPOINTS, Kind.NOTATION)


@dataclass(frozen=True)
class ExportOptions:
    """How to export. ``width`` x ``height``: video pixels (720p by default, the same
    in the CLI and the studio). ``fps``: the rate of a video or motion file (None: the
    motion's; a project keeps its own frames). ``avatar``: the body to show or to
    measure keypoints and the BVH skeleton on (None: the project's). ``smplx_dir``: the
    SMPL-X model folder for that avatar (None: the configured one). ``renderer``: who
    appears in a video, ``"avatar"`` or ``"photoreal"`` (the signer a PGMM model learned,
    ``photoreal_model``, at the model's size; ``side_by_side`` puts the avatar beside)."""

    width: int = 1280
    height: int = 720
    fps: float | None = None
    camera: str = "front"
    captions: bool = True
    anti_aliasing: str = "none"
    background: tuple[int, int, int] = (255, 255, 255)
    avatar: str | None = None
    smplx_dir: str | None = None
    renderer: str = "avatar"
    photoreal_model: str | None = None
    side_by_side: bool = False

    def __post_init__(self):
        if self.renderer not in RENDERERS:
            raise UsageError(f"renderer: expected one of {', '.join(RENDERERS)}, got "
                             f"{self.renderer!r}")
        if (self.renderer == "photoreal") != (self.photoreal_model is not None):
            raise UsageError("--renderer photoreal and --model go together: the model is the "
                             "checkpoint `signstudio-cli train pgmm` wrote")
        if self.side_by_side and self.renderer != "photoreal":
            raise UsageError("--side-by-side: puts the avatar beside the photoreal signer; "
                             "give --renderer photoreal and --model too")
        low, high = VIDEO_PIXELS
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UsageError(f"{name}: expected a whole number of pixels from {low} to "
                                 f"{high}, got {value!r}")
        if self.fps is not None and not OUTPUT_FPS[0] <= self.fps <= OUTPUT_FPS[1]:
            raise UsageError(f"fps: expected {OUTPUT_FPS[0]:g} to {OUTPUT_FPS[1]:g} frames "
                             f"per second, got {self.fps!r}")
        if self.camera not in CAMERAS:
            raise UsageError(f"camera: expected one of {', '.join(CAMERAS)}, got {self.camera!r}")
        if self.anti_aliasing not in ANTI_ALIASING:
            raise UsageError(f"anti_aliasing: expected one of {', '.join(ANTI_ALIASING)}, "
                             f"got {self.anti_aliasing!r}")
        if self.avatar is not None:
            check_avatar(self.avatar)


def check_avatar(avatar: str) -> None:
    """``UsageError`` unless ``avatar`` names an ``AvatarChoice``."""
    if avatar not in {choice.value for choice in AvatarChoice}:
        raise UsageError(f"avatar: expected one of {[c.value for c in AvatarChoice]}, "
                         f"got {avatar!r}")


def export_format(path: str | Path) -> FileFormat:
    """The format ``path`` would be written in; ``UnknownFormat`` (bad use) naming what
    can be written. Check every output with it before slow work."""
    return format_for(path, EXPORT_KINDS, "write")


@dataclass(frozen=True)
class ExportResult:
    """What was written, and what the user should know about it (one line each)."""

    path: Path
    notes: tuple[str, ...] = field(default=())


#: Motion files whose SMPL-X jaw and expression carry the face when the avatar is SMPL-X
#: (``engine.export.motion_files.on_smplx``): its expression space is in the model file.
FACE_AS_SMPLX_PARAMETERS = (".npz", ".smpl")


def export_body(project: Project, options: ExportOptions = ExportOptions()):
    """(body, note): the avatar the options or the project ask for, or the default one
    and a note saying why SMPL-X is not used."""
    from engine.body import SmplxModelNotFound, default_avatar, load_body_model

    try:
        return load_body_model(options.avatar or project.avatar, smplx_dir=options.smplx_dir), ""
    except SmplxModelNotFound as error:
        return default_avatar(), f"SMPL-X is not available ({error}); used the default avatar"


def _at_export_rate(motion, options: ExportOptions):
    """``motion`` resampled to ``options.fps`` when one is asked and differs."""
    if options.fps is None or abs(options.fps - motion.fps) <= 1e-9:
        return motion
    from engine.motion.resample import resample

    return resample(motion, options.fps)


def export_project(project: Project, path: str | Path, options: ExportOptions = ExportOptions(),
                   *, progress: Progress = no_progress,
                   cancel: CancelToken | None = None) -> ExportResult:
    """Write ``project`` to ``path`` in the format its extension names (``engine.io``).

    Atomic like every writer: a failed or cancelled export leaves no partial file.
    Raises ``UnknownFormat`` for an extension we cannot write, listing those we can,
    and ``UsageError`` for a frame rate asked of a project file.
    """
    path = Path(path)
    fmt = export_format(path)
    if options.renderer == "photoreal" and fmt.kind is not Kind.VIDEO:
        raise UsageError(f"{path}: the photoreal model draws videos; a {fmt.description} "
                         "file carries the motion itself (leave the renderer at avatar)")
    cancel = cancel or CancelToken()
    cancel.raise_if_cancelled()
    notes: list[str] = []
    if fmt.kind is Kind.PROJECT:
        if options.fps is not None and abs(options.fps - project.motion.fps) > 1e-9:
            raise UsageError(f"{path}: a project keeps its own frame rate "
                             f"({project.motion.fps:g} fps); --fps applies to videos and "
                             "motion files")
        fmt.write(project, path)
    elif fmt.kind is Kind.NOTATION:
        from engine.generate.from_notation import sigml_signs

        signs, missing = sigml_signs(project)
        if not signs:
            raise ValueError(f"{path}: no sign of this project was made from notation, so "
                             "there is nothing to write as SiGML")
        fmt.write(signs, path)
        if missing:
            notes.append(f"{path}: {len(missing)} signs have no notation and were left out: "
                         + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    elif fmt.kind is Kind.VIDEO and options.renderer == "photoreal":
        from engine.export.photoreal import export_photoreal

        motion = _at_export_rate(performed_motion(project), options)
        body = None
        if options.side_by_side:
            body, note = export_body(project, options)
            notes += [note] if note else []
        export_photoreal(motion, path, options.photoreal_model, side_by_side=options.side_by_side,
                         body=body, progress=progress, cancel=cancel)
        notes.append(f"{path}: drawn by the photoreal model at its own size; the video size, "
                     "camera and captions are for videos of the avatar")
    elif fmt.kind is Kind.VIDEO:
        from engine.export.video import captions_from_segments, signs_span

        body, note = export_body(project, options)
        notes += [note] if note else []
        captions = captions_from_segments(project.segments) if options.captions else None
        fmt.write(performed_motion(project), path, body=body, width=options.width,
                  height=options.height, fps=options.fps, camera=options.camera,
                  background=options.background, captions=captions,
                  anti_aliasing=options.anti_aliasing, aim_frames=signs_span(project.segments),
                  progress=progress, cancel=cancel)
    else:  # motion and keypoint files: the face as performed (markers, mouthing)
        motion = _at_export_rate(performed_motion(project), options)
        context = {"progress": progress, "cancel": cancel}
        on_smplx = (options.avatar or project.avatar) != AvatarChoice.DEFAULT
        if fmt.suffix in FACE_AS_SMPLX_PARAMETERS:
            if on_smplx and motion.face_blendshapes.any():
                context["body"], note = export_body(project, options)
                notes += [f"{note}; the face is written as ARKit weights only"] if note else []
        elif fmt.takes("body"):  # BVH's skeleton and .pose's keypoints are the avatar's
            context["body"], note = export_body(project, options)
            notes += [note] if note else []
        elif on_smplx and fmt.suffix == ".glb":
            notes.append(f"{path}: a glTF file carries the default avatar (the SMPL-X mesh "
                         "may not be redistributed)")
        progress(0, 1, f"writing {path.name}")
        fmt.write_with(motion, path, **context)
        progress(1, 1, "done")
    return ExportResult(path, tuple(notes))


def render_frame(project: Project, frame: int, path: str | Path,
                 options: ExportOptions = ExportOptions()) -> ExportResult:
    """One frame of ``project`` as a PNG, on the avatar ``export_project`` would use,
    through ``options.camera`` (aimed as the video is) at ``options.width`` x
    ``options.height``."""
    from engine.export.render import OffscreenRenderer, aim_frames_sample, write_image
    from engine.export.video import signs_span

    motion = performed_motion(project)
    if not 0 <= frame < motion.num_frames:
        raise UsageError(f"--frame: expected 0..{motion.num_frames - 1}, got {frame}")
    body, note = export_body(project, options)
    posed = body.forward(motion, slice(frame, frame + 1))
    # Aimed as the video is: over the utterance's signs, so a frame of a close-up shows
    # what that frame of the video shows.
    aim = aim_frames_sample(motion.num_frames, signs_span(project.segments))
    with OffscreenRenderer(body, options.width, options.height) as renderer:
        renderer.set_camera(options.camera, body.forward(motion, aim).joints)
        write_image(path, renderer.render(posed.vertices[0]))
    return ExportResult(Path(path), (note,) if note else ())
