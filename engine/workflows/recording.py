"""Open a recording as an editable project: video or .pose -> 3D motion -> keyframes.

A user who brings a recording of continuous signing wants to edit it, and editing
starts from keyframes. The segmenter (``engine.learn.segmenter``, shipped checkpoint)
finds each sign in the motion and places keyframes at its onset, midpoint and offset,
SignSparK's policy, so KF2P edits then regenerate between real sign boundaries rather
than across them. Plain motion files (.npz, .smpl, .bvh, .glb) get the same keyframes.

A workflow: it composes the layers below it (data for video and fitting, learn for the
segmenter, the motion-file readers of the file-format registry).
"""
from __future__ import annotations

from pathlib import Path

from engine.io import Kind, format_for
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion import Project

#: What ``import_recording`` reads: videos, keypoint files and motion files.
RECORDING_KINDS = (Kind.VIDEO, Kind.KEYPOINTS, Kind.MOTION)


def import_recording(path: str | Path, *, progress: Progress = no_progress,
                     cancel: CancelToken | None = None, place_keyframes: bool = True) -> Project:
    """``path`` as a new Project titled after the file.

    Videos go through MediaPipe Holistic and fitting, ``.pose`` files through fitting,
    motion files are read as they are. Progress runs 0..1000 over the whole import.
    Raises the readers' errors (``KeypointFileError``, ``ProjectFileError``), each naming
    the file, and ``Cancelled``; nothing is written anywhere.
    """
    path = Path(path)
    fmt = format_for(path, RECORDING_KINDS, "read")
    if fmt.kind is Kind.VIDEO:
        from engine.data.fit import fit_keypoints
        from engine.data.video_import import read_video_keypoints

        sequence = read_video_keypoints(
            path, cancel=cancel,
            progress=lambda d, t, m="": progress(500 * d // max(t, d, 1), 1000, f"keypoints, {m}"))
        motion = fit_keypoints(
            sequence, cancel=cancel,
            progress=lambda d, t, m="": progress(500 + 450 * d // max(t, d, 1), 1000, f"fitting, {m}")
        ).motion
    else:
        from engine.export.motion_files import import_motion_file

        motion = import_motion_file(
            path, cancel=cancel,
            progress=lambda d, t, m="": progress(950 * d // max(t, d, 1), 1000, f"fitting, {m}"))
    keyframes = ()
    if place_keyframes:
        from engine.learn.segmenter import keyframes_for_recording

        progress(950, 1000, "finding sign boundaries")
        keyframes = tuple(keyframes_for_recording(motion))
    progress(1000, 1000, "done")
    return Project(motion=motion, keyframes=keyframes, title=path.stem)


def open_as_project(path: str | Path, *, progress: Progress = no_progress,
                    cancel: CancelToken | None = None) -> Project:
    """A ``.signstudio`` project as it is, or any recording as a new project (above)."""
    if format_for(path, (Kind.PROJECT, *RECORDING_KINDS), "read").kind is Kind.PROJECT:
        from engine.motion import load_project

        return load_project(path)
    return import_recording(path, progress=progress, cancel=cancel)
