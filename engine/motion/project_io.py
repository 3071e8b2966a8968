"""Saving and loading projects: one ``.signstudio`` file, written atomically.

Format (schema version 3), a ZIP archive holding:

- ``project.json``: ``{"format": "signstudio-project", "schema_version": 3,
  "app_version", "title", "avatar", "fps", "keyframes": [{"frame", "channels",
  "pose_index", "generated" (only when placed by a generator), "interpolation" (only
  when not "auto")}], "segments": [{"gloss",
  "language", "start", "end", "hold", "kind", "notation" (only when not empty),
  "mouthing" (only when mouthed: {"word", "voice", "phonemes"})}], "origin" (only
  when generated: {"text", "language", "fps", "signing_speed"}), "markers": [{"kind",
  "start", "end", "intensity", "onset", "offset"}], "mouthing": true/false,
  "tracks" (only when any: {"locked": [channel, ...], "muted": [channel, ...]}),
  "contacts" (only when any: [{"side", "point", "site", "start", "end"}])}``.
  Schema 1 files (no markers, no mouthing) load with none and mouthing on. A project
  is written with the oldest schema that holds it (1 without face data, track states
  or contacts; 2 without contacts), so an older Sign Studio still opens it.
- ``motion/<field>.npy``: each Motion field (``engine.motion.motion.FRAME_FIELDS`` and
  ``betas``), float32, frame-major.
- ``keyposes/<field>.npy``: the keyframes' pinned poses stacked in keyframe order
  (K frames), present when the project has keyframes.

Arrays are read by ``engine.motion.array_files`` (plain numeric arrays only, sizes
checked before allocation), so a project file cannot run code.
A file from a newer schema, a damaged archive or a field of the wrong shape raises
``ProjectFileError`` naming the file and the problem; nothing is changed on disk.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import engine
from engine.atomic import atomic_output
from engine.motion.array_files import (
    MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS, MAX_ARRAY_BYTES, STREAM_ERRORS, read_npy,
    read_npz_arrays,
)
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.contacts import MAX_CONTACTS, ContactLock
from engine.motion.markers import MAX_MARKERS, FaceMarker, Mouthing
from engine.motion.motion import FRAME_FIELDS, Motion
from engine.motion.project import PROJECT_SCHEMA_VERSION, Keyframe, Origin, Project, Segment

FORMAT_NAME = "signstudio-project"
#: Largest project.json read: the header lists keyframes and segments, about 150 bytes
#: each, so 16 MB is over 100,000 of them.
MAX_HEADER_BYTES = 16 << 20
PROJECT_SUFFIX = ".signstudio"
_MOTION_ARRAYS = tuple(FRAME_FIELDS) + ("betas",)


def _write_motion(archive: zipfile.ZipFile, folder: str, motion: Motion) -> None:
    for name in _MOTION_ARRAYS:
        buffer = io.BytesIO()
        np.save(buffer, getattr(motion, name), allow_pickle=False)
        archive.writestr(f"{folder}/{name}.npy", buffer.getvalue())


def motion_to_bytes(motion: Motion) -> bytes:
    """A Motion as a self-contained ``.npz`` byte string (fields + ``fps``), no pickle.

    Used where a motion is stored inside something else (the lexicon database).
    Compressed: a synthesised sign's arrays are mostly zeros (legs, face), 53 kB
    become 6 kB, and reading it back costs 0.1 ms more (measured).
    """
    buffer = io.BytesIO()
    arrays = {name: getattr(motion, name) for name in _MOTION_ARRAYS}
    np.savez_compressed(buffer, **arrays, fps=np.float64(motion.fps))
    return buffer.getvalue()


def motion_from_bytes(data: bytes, source: str | Path = "<bytes>") -> Motion:
    """Inverse of ``motion_to_bytes``; ``ProjectFileError`` naming ``source`` on damage."""
    stored = read_npz_arrays(data, source)
    try:
        arrays = {name: stored[name] for name in _MOTION_ARRAYS}
        fps = float(stored["fps"])
    except (ValueError, KeyError, TypeError) as error:
        raise ProjectFileError(source, f"stored motion is damaged ({error})") from None
    betas = arrays.pop("betas")
    try:
        return Motion(**arrays, betas=betas, fps=fps)
    except MotionError as error:
        raise ProjectFileError(source, f"stored motion is invalid: {error}") from None


@dataclass(frozen=True)
class FileStamp:
    """Which version of a file is on disk. Every save of ours writes a new file and
    renames it into place, so another writer's save changes the inode even when size
    and time happen to match."""

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> FileStamp | None:
        """The stamp of ``path`` now, or None when there is no such file."""
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return cls(stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ProjectChangedOnDisk(ProjectFileError):
    """The project file was written by someone else since this copy was opened or saved."""


def save_project(project: Project, path: str | Path,
                 opened_as: FileStamp | None = None) -> FileStamp:
    """Write ``project`` to ``path`` atomically (the old file survives any failure) and
    return the new file's stamp.

    ``opened_as``: the stamp the file had when this project was read from it (or last
    saved to it); if the file has changed since (another window, another program),
    ``ProjectChangedOnDisk`` is raised and nothing is written. None: no check.
    """
    # A project without face data or track states is written as schema 1, so a Sign
    # Studio from before them can still open it.
    has_face = bool(project.markers) or not project.mouthing or any(
        s.mouthing is not None for s in project.segments)
    layers = ({"markers": [{**dataclasses.asdict(m), "kind": m.kind.value}
                           for m in project.markers], "mouthing": project.mouthing}
              if has_face else {})
    has_tracks = bool(project.locked or project.muted)
    if has_tracks:
        layers["tracks"] = {"locked": sorted(c.value for c in project.locked),
                            "muted": sorted(c.value for c in project.muted)}
    if project.contacts:
        layers["contacts"] = [dataclasses.asdict(lock) for lock in project.contacts]
    # The oldest schema that holds what the project has: 3 for contact locks.
    schema = 3 if project.contacts else 2 if has_face or has_tracks else 1
    header = {
        "format": FORMAT_NAME,
        "schema_version": schema,
        "app_version": engine.__version__,
        "title": project.title,
        "avatar": project.avatar.value,
        **({"origin": dataclasses.asdict(project.origin)} if project.origin else {}),
        "fps": project.motion.fps,
        "keyframes": [
            {"frame": k.frame, "channels": sorted(c.value for c in k.channels), "pose_index": i,
             **({"generated": True} if k.generated else {}),
             **({"interpolation": k.interpolation} if k.interpolation != "auto" else {})}
            for i, k in enumerate(project.keyframes)
        ],
        "segments": [_segment_entry(s) for s in project.segments],
        **layers,
    }
    def unchanged_since_opened() -> None:
        now = FileStamp.of(path)  # None: deleted or moved away, so nobody's work is lost
        if opened_as is not None and now is not None and now != opened_as:
            raise ProjectChangedOnDisk(path, "the file changed on disk since it was opened "
                                             "(saved by another window or program); nothing "
                                             "was written")

    unchanged_since_opened()  # fail before the work; checked again just before the rename
    with atomic_output(path, before_replace=unchanged_since_opened) as temp_path:
        with zipfile.ZipFile(temp_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.json", json.dumps(header, indent=2, ensure_ascii=False))
            _write_motion(archive, "motion", project.motion)
            if project.keyframes:
                keyposes = Motion.concatenate(k.pose for k in project.keyframes)
                _write_motion(archive, "keyposes", keyposes)
    return FileStamp.of(path)


def _segment_entry(segment: Segment) -> dict:
    entry = {"gloss": segment.gloss, "language": segment.language, "start": segment.start,
             "end": segment.end, "hold": segment.hold, "kind": segment.kind.value}
    if segment.notation:
        entry["notation"] = segment.notation
    if segment.mouthing is not None:
        entry["mouthing"] = {"word": segment.mouthing.word, "voice": segment.mouthing.voice,
                             "phonemes": list(segment.mouthing.phonemes)}
    return entry


def _segment_from(entry: object) -> Segment:
    if not isinstance(entry, dict):
        raise MotionError(f"a segment: expected an object, got {entry!r:.60}")
    mouthing = entry.get("mouthing")
    if mouthing is not None:
        if not isinstance(mouthing, dict):
            raise MotionError(f"segment mouthing: expected an object, got {mouthing!r}")
        entry = {**entry, "mouthing": Mouthing(**mouthing)}
    return Segment(**entry)


def _read_motion(archive: zipfile.ZipFile, path: Path, folder: str, fps: float,
                 budget: list[int]) -> Motion:
    """The Motion stored under ``folder``. Every field's declared shape is checked
    against the first field's frame count, and ``budget[0]`` (bytes still allowed for
    this project) is spent, before any of its data is inflated."""
    arrays = {}
    for name in _MOTION_ARRAYS:
        member = f"{folder}/{name}.npy"
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise ProjectFileError(path, f"missing array '{member}'") from None
        frames = None if not arrays or name == "betas" else len(arrays["global_orient"])
        with archive.open(info) as stream:
            arrays[name] = read_npy(stream, path, member, available=info.file_size,
                                    frames=frames, max_bytes=min(MAX_ARRAY_BYTES, budget[0]))
        budget[0] -= arrays[name].nbytes
    betas = arrays.pop("betas")
    try:
        return Motion(**arrays, betas=betas, fps=fps)
    except MotionError as error:
        raise ProjectFileError(path, f"{folder}: {error}") from None


def _require(header: dict, key: str, kind: type | tuple[type, ...], path: Path):
    value = header.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProjectFileError(path, f"project.json field '{key}': expected {names}, got {value!r}")
    return value


def _objects(header: dict, field: str, limit: int) -> list[dict]:
    """The optional list of objects ``header[field]`` (at most ``limit``; [] when
    absent); raises ``MotionError`` naming the field when it is anything else."""
    entries = header.get(field, [])
    if not isinstance(entries, list) or len(entries) > limit \
            or not all(isinstance(entry, dict) for entry in entries):
        raise MotionError(f"project.json field '{field}': expected a list of at most "
                          f"{limit:,} objects")
    return entries


def load_project(path: str | Path) -> Project:
    """Read a ``.signstudio`` file; raise ``ProjectFileError`` on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(path, "no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            if len(archive.infolist()) > MAX_ARCHIVE_MEMBERS:
                raise ProjectFileError(path, f"{len(archive.infolist()):,} members; a project "
                                             f"has at most {MAX_ARCHIVE_MEMBERS:,}")
            try:
                info = archive.getinfo("project.json")
            except KeyError:
                raise ProjectFileError(path, "not a Sign Studio project (no project.json)") from None
            if info.file_size > MAX_HEADER_BYTES:
                raise ProjectFileError(path, f"project.json is {info.file_size:,} bytes; a project's "
                                             f"header is at most {MAX_HEADER_BYTES:,}")
            try:
                header = json.loads(archive.read(info).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ProjectFileError(path, f"project.json is not valid JSON ({error})") from None
            except RecursionError:
                raise ProjectFileError(path, "project.json is nested too deeply to be a "
                                             "project header") from None
            if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
                raise ProjectFileError(
                    path, f"project.json field 'format': expected '{FORMAT_NAME}'")
            version = _require(header, "schema_version", int, path)
            if version > PROJECT_SCHEMA_VERSION:
                raise ProjectFileError(
                    path,
                    f"written with project schema {version} by a newer Sign Studio "
                    f"({header.get('app_version', '?')}); this version "
                    f"({engine.__version__}) reads schema {PROJECT_SCHEMA_VERSION} or older",
                )
            fps = _require(header, "fps", (int, float), path)
            budget = [MAX_ARCHIVE_BYTES]
            motion = _read_motion(archive, path, "motion", fps, budget)
            key_entries = _require(header, "keyframes", list, path)
            keyposes = (_read_motion(archive, path, "keyposes", fps, budget)
                        if key_entries else None)
            try:
                keyframes = []
                for entry in key_entries:
                    index = entry["pose_index"]
                    if not 0 <= index < keyposes.num_frames:
                        raise MotionError(f"keyframe pose_index {index} outside the stored poses")
                    generated = entry.get("generated", False)
                    if not isinstance(generated, bool):
                        raise MotionError(f"keyframe 'generated': expected true or false, "
                                          f"got {generated!r:.40}")
                    keyframes.append(Keyframe(frame=entry["frame"], pose=keyposes.frame(index),
                                              generated=generated,
                                              interpolation=entry.get("interpolation", "auto"),
                                              channels=frozenset(entry["channels"])))
                segments = [_segment_from(entry)
                            for entry in _require(header, "segments", list, path)]
                markers = [FaceMarker(**entry)
                           for entry in _objects(header, "markers", MAX_MARKERS)]
                tracks = header.get("tracks", {})
                if not isinstance(tracks, dict) or not all(
                        isinstance(tracks.get(name, []), list) for name in ("locked", "muted")):
                    raise MotionError(f"project.json field 'tracks': expected "
                                      f"{{\"locked\": [...], \"muted\": [...]}}, got {tracks!r:.60}")
                contacts = [ContactLock(**entry)
                            for entry in _objects(header, "contacts", MAX_CONTACTS)]
                origin = header.get("origin")
                if origin is not None and not isinstance(origin, dict):
                    raise MotionError(f"project.json field 'origin': expected an object, "
                                      f"got {origin!r}")
                return Project(
                    motion=motion, keyframes=tuple(keyframes), segments=tuple(segments),
                    avatar=header.get("avatar", "default"), title=header.get("title", ""),
                    origin=Origin(**origin) if origin is not None else None,
                    markers=tuple(markers), mouthing=header.get("mouthing", True),
                    locked=tracks.get("locked", []), muted=tracks.get("muted", []),
                    contacts=tuple(contacts),
                )
            except (MotionError, KeyError, TypeError) as error:
                raise ProjectFileError(path, f"invalid project content: {error}") from None
    except (zipfile.LargeZipFile, *STREAM_ERRORS) as error:
        if isinstance(error, OSError) and error.errno is not None:  # e.g. permission denied
            raise ProjectFileError(path, f"cannot be read ({error.strerror})") from None
        raise ProjectFileError(path, "not a Sign Studio project (damaged or not a zip archive)") from None
