"""The file-format registry: extension -> kind, description, reader and writer.

Each ``FileFormat`` names its reader and writer by import path ("module:function") and
resolves them on first use. That keeps this module at the bottom of the layer order
(it imports only the error types: the video writer alone pulls in VTK, seconds to import) while
the handlers live in the layer that owns them; a test resolves every path, so a renamed
function fails the suite rather than a user's export.

Handler signatures, by kind:
- PROJECT: ``read(path) -> Project``, ``write(project, path)``
- MOTION: ``read(path) -> Motion``, ``write(motion, path, ...)`` (BVH takes ``body``,
  glTF ``progress``/``cancel``; ``FileFormat.write_with`` passes what each takes)
- KEYPOINTS: ``read(path) -> KeypointSequence``, ``write(motion, path, body=None)``
- VIDEO: ``read(path) -> KeypointSequence`` (MediaPipe), ``write(motion, path, ...)``
  (``engine.export.video.export_video``'s options)
- IMAGE: ``read(path) -> (H, W, 3) uint8``
- NOTATION: ``read(path) -> list[NotatedSign]``, ``write(signs, path)``

A new format is one ``FileFormat`` line below plus its handler; see docs/architecture.md.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from engine.motion.errors import UsageError


class Kind(StrEnum):
    PROJECT = "project"
    MOTION = "motion"
    KEYPOINTS = "keypoints"
    VIDEO = "video"
    IMAGE = "image"
    NOTATION = "notation"


#: How each kind is named in file dialogs ("Videos (*.mp4 *.gif)").
KIND_LABELS: dict[Kind, str] = {
    Kind.PROJECT: "Sign Studio projects", Kind.MOTION: "Motion files",
    Kind.KEYPOINTS: "Keypoint files", Kind.VIDEO: "Videos", Kind.IMAGE: "Images",
    Kind.NOTATION: "SiGML notation",
}


class UnknownFormat(UsageError):
    """A path whose extension no registered format of the wanted kind reads or writes
    (bad use: the CLI exits 2 for it)."""


@dataclass(frozen=True)
class FileFormat:
    """One extension. ``reader``/``writer``: "module:function", or None when we do not
    read (or write) it."""

    suffix: str
    kind: Kind
    description: str
    reader: str | None = None
    writer: str | None = None

    @property
    def read(self) -> Callable:
        return _resolve(self.reader, self, "read")

    @property
    def write(self) -> Callable:
        return _resolve(self.writer, self, "write")

    def takes(self, keyword: str) -> bool:
        """Whether the writer accepts ``keyword`` (e.g. "body": BVH and .pose do)."""
        return keyword in inspect.signature(self.write).parameters

    def write_with(self, *args, **context):
        """Write, passing the ``context`` keywords the writer accepts and leaving out
        the others (BVH and .pose take the body, glTF reports progress, .npz takes
        neither): ``context`` is what the caller can offer, not what it requires."""
        return self.write(*args, **{k: v for k, v in context.items() if self.takes(k)})


def _resolve(target: str | None, fmt: FileFormat, action: str) -> Callable:
    if target is None:
        raise UnknownFormat(f"{fmt.suffix} ({fmt.description}) cannot be {action}")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


_MOTION_FILES = "engine.export.motion_files"
_VIDEO_IN = "engine.data.video_import:read_video_keypoints"

#: Every format, in the order dialogs list them (most used first within a kind).
FORMATS: tuple[FileFormat, ...] = (
    FileFormat(".signstudio", Kind.PROJECT, "Sign Studio project",
               "engine.motion.project_io:load_project", "engine.motion.project_io:save_project"),
    FileFormat(".npz", Kind.MOTION, "SMPL-X parameters, AMASS-style keys",
               f"{_MOTION_FILES}:read_npz", f"{_MOTION_FILES}:write_npz"),
    FileFormat(".smpl", Kind.MOTION, "Meshcapade .smpl",
               f"{_MOTION_FILES}:read_smpl", f"{_MOTION_FILES}:write_smpl"),
    FileFormat(".bvh", Kind.MOTION, "BVH skeleton animation (55 SMPL-X joints, cm)",
               "engine.export.bvh:read_bvh", "engine.export.bvh:write_bvh"),
    FileFormat(".glb", Kind.MOTION, "glTF binary: skinned avatar with animation",
               "engine.export.gltf:read_glb_animation", "engine.export.gltf:write_glb"),
    FileFormat(".pose", Kind.KEYPOINTS, "pose-format keypoints (MediaPipe Holistic layout)",
               "engine.data.pose_reader:read_pose_file", "engine.export.pose_file:write_pose_file"),
    FileFormat(".mp4", Kind.VIDEO, "Video, MP4 (H.264)", _VIDEO_IN,
               "engine.export.video:export_video"),
    FileFormat(".webm", Kind.VIDEO, "Video, WebM (VP9)", _VIDEO_IN,
               "engine.export.video:export_video"),
    # An animated GIF is a video everywhere: written as one, read frame by frame.
    FileFormat(".gif", Kind.VIDEO, "Animated GIF", _VIDEO_IN, "engine.export.video:export_video"),
    FileFormat(".mov", Kind.VIDEO, "Video, QuickTime", _VIDEO_IN),
    FileFormat(".m4v", Kind.VIDEO, "Video, MPEG-4", _VIDEO_IN),
    FileFormat(".mkv", Kind.VIDEO, "Video, Matroska", _VIDEO_IN),
    FileFormat(".avi", Kind.VIDEO, "Video, AVI", _VIDEO_IN),
    FileFormat(".mpg", Kind.VIDEO, "Video, MPEG", _VIDEO_IN),
    FileFormat(".mpeg", Kind.VIDEO, "Video, MPEG", _VIDEO_IN),
    FileFormat(".png", Kind.IMAGE, "PNG image", "engine.generate.image_match:read_query_image"),
    FileFormat(".jpg", Kind.IMAGE, "JPEG image", "engine.generate.image_match:read_query_image"),
    FileFormat(".jpeg", Kind.IMAGE, "JPEG image", "engine.generate.image_match:read_query_image"),
    FileFormat(".bmp", Kind.IMAGE, "BMP image", "engine.generate.image_match:read_query_image"),
    FileFormat(".webp", Kind.IMAGE, "WebP image", "engine.generate.image_match:read_query_image"),
    FileFormat(".sigml", Kind.NOTATION, "SiGML (HamNoSys signs, for JASigning)",
               "engine.notation.sigml:read_sigml", "engine.notation.sigml:write_sigml"),
)

_BY_SUFFIX: dict[str, FileFormat] = {fmt.suffix: fmt for fmt in FORMATS}
assert len(_BY_SUFFIX) == len(FORMATS), "a suffix is registered twice"


def _kinds(kinds: Kind | Iterable[Kind] | None) -> set[Kind] | None:
    if kinds is None:
        return None
    return {kinds} if isinstance(kinds, Kind) else set(kinds)


def _usable(fmt: FileFormat, kinds: set[Kind] | None, mode: str | None) -> bool:
    handler = {"read": fmt.reader, "write": fmt.writer, None: True}[mode]
    return handler is not None and (kinds is None or fmt.kind in kinds)


def formats(kinds: Kind | Iterable[Kind] | None = None, mode: str | None = None
            ) -> tuple[FileFormat, ...]:
    """The registered formats of ``kinds`` (all by default) that can be ``mode``
    ("read", "write", or None for either)."""
    wanted = _kinds(kinds)
    return tuple(fmt for fmt in FORMATS if _usable(fmt, wanted, mode))


def suffixes(kinds: Kind | Iterable[Kind] | None = None, mode: str | None = None
             ) -> tuple[str, ...]:
    """(".mp4", ".webm", ...) of ``formats(kinds, mode)``."""
    return tuple(fmt.suffix for fmt in formats(kinds, mode))


def format_for(path: str | Path, kinds: Kind | Iterable[Kind] | None = None,
               mode: str | None = None) -> FileFormat:
    """The format ``path``'s extension names. Raises ``UnknownFormat`` naming the file,
    its extension and what would be accepted."""
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = _BY_SUFFIX.get(suffix)
    if fmt is not None and _usable(fmt, _kinds(kinds), mode):
        return fmt
    accepted = ", ".join(suffixes(kinds, mode))
    action = {"read": "read", "write": "write", None: "use"}[mode]
    raise UnknownFormat(f"{path}: cannot {action} files ending in "
                        f"{suffix or '(no extension)'!r} here; expected one of {accepted}")


def dialog_filter(kinds: Kind | Iterable[Kind] | None = None, mode: str | None = None,
                  all_label: str = "All supported") -> str:
    """A file-dialog filter string: one entry for everything accepted, then (when there
    are several kinds) one per kind, e.g.
    ``"All supported (*.mp4 *.npz);;Videos (*.mp4);;Motion files (*.npz)"``.
    Qt-free (plain text); Qt's file dialogs read this form."""
    chosen = formats(kinds, mode)
    entries = [f"{all_label} (" + " ".join(f"*{f.suffix}" for f in chosen) + ")"]
    if len({f.kind for f in chosen}) == 1:
        return entries[0]
    for kind in Kind:
        of_kind = [f"*{f.suffix}" for f in chosen if f.kind is kind]
        if of_kind:
            entries.append(f"{KIND_LABELS[kind]} ({' '.join(of_kind)})")
    return ";;".join(entries)
