"""Export a project: to a project file, a video, a motion or keypoint file, or SiGML.

The one place an export happens (the CLI's ``export``/``generate``/``sign`` and the
studio's Export dialog call it), so both give the same file for the same options. The
body is the project's avatar (``Project.avatar``), as in the viewport; when SMPL-X is
asked for but its files are missing the default avatar is used and a note says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.io import Kind, format_for
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.errors import UsageError
from engine.motion.project import Project

#: Cameras and anti-aliasing modes a video may use (``engine.export.render``'s names;
#: repeated here as plain data so options can be checked without importing VTK).
CAMERAS = ("front", "three_quarter", "side", "hands", "full_body")
ANTI_ALIASING = ("none", "msaa", "ssaa")
#: Pixels per side a video may have (8K UHD at most).
VIDEO_PIXELS = (16, 7680)
#: Frames per second a result may have (video players, ffmpeg).
OUTPUT_FPS = (1.0, 240.0)


@dataclass(frozen=True)
class ExportOptions:
    """How to export. ``width`` x ``height``: video pixels (720p by default, the same
    in the CLI and the studio). ``fps``: the result's rate (None: the motion's).
    ``smplx_dir``: the SMPL-X model folder when the project's avatar is SMPL-X
    (None: the configured one)."""

    width: int = 1280
    height: int = 720
    fps: float | None = None
    camera: str = "front"
    captions: bool = True
    anti_aliasing: str = "none"
    background: tuple[int, int, int] = (255, 255, 255)
    smplx_dir: str | None = None

    def __post_init__(self):
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


@dataclass(frozen=True)
class ExportResult:
    """What was written, and what the user should know about it (one line each)."""

    path: Path
    notes: tuple[str, ...] = field(default=())


def export_body(project: Project, smplx_dir: str | None = None):
    """(body, note): the project's avatar, or the default one and why SMPL-X is not used."""
    from engine.body import SmplxModelNotFound, default_avatar, load_body_model

    try:
        return load_body_model(project.avatar, smplx_dir=smplx_dir), ""
    except SmplxModelNotFound as error:
        return default_avatar(), f"SMPL-X is not available ({error}); used the default avatar"


def export_project(project: Project, path: str | Path, options: ExportOptions = ExportOptions(),
                   *, progress: Progress = no_progress,
                   cancel: CancelToken | None = None) -> ExportResult:
    """Write ``project`` to ``path`` in the format its extension names (``engine.io``).

    Atomic like every writer: a failed or cancelled export leaves no partial file.
    Raises ``UnknownFormat`` for an extension we cannot write, listing those we can.
    """
    path = Path(path)
    fmt = format_for(path, mode="write")
    cancel = cancel or CancelToken()
    cancel.raise_if_cancelled()
    notes: list[str] = []
    if fmt.kind is Kind.PROJECT:
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
    elif fmt.kind is Kind.VIDEO:
        from engine.export.video import captions_from_segments, signs_span

        body, note = export_body(project, options.smplx_dir)
        notes += [note] if note else []
        captions = captions_from_segments(project.segments) if options.captions else None
        fmt.write(project.motion, path, body=body, width=options.width,
                  height=options.height, fps=options.fps, camera=options.camera,
                  background=options.background, captions=captions,
                  anti_aliasing=options.anti_aliasing, aim_frames=signs_span(project.segments),
                  progress=progress, cancel=cancel)
    else:  # motion and keypoint files
        motion = project.motion
        if options.fps is not None and abs(options.fps - motion.fps) > 1e-9:
            from engine.motion.resample import resample

            motion = resample(motion, options.fps)
        body, note = export_body(project, options.smplx_dir)
        notes += [note] if note and fmt.suffix in (".bvh", ".pose") else []
        progress(0, 1, f"writing {path.name}")
        fmt.write_with(motion, path, body=body, progress=progress, cancel=cancel)
        progress(1, 1, "done")
    return ExportResult(path, tuple(notes))
