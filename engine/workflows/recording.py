"""Open a recording as an editable project: video or .pose -> 3D motion -> keyframes.

A user who brings a recording of continuous signing wants to edit it, and editing
starts from keyframes. The segmenter (``engine.learn.segmenter``, shipped checkpoint)
finds each sign in the motion and places keyframes at its onset, midpoint and offset,
seed 003's policy, so KF2P edits then regenerate between real sign boundaries rather
than across them. Plain motion files (.npz, .smpl, .bvh, .glb) get the same keyframes.

This sits in ``engine.export`` because it composes the layers below it (data for video
and fitting, learn for the segmenter) and the motion-file readers that live here.
"""
from __future__ import annotations

from pathlib import Path

from engine.jobs import CancelToken, Progress, no_progress
from engine.motion import Project

#: File types ``import_recording`` reads, for file dialogs and drop handling.
RECORDING_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg",
                      ".pose", ".npz", ".smpl", ".bvh", ".glb")


def import_recording(path: str | Path, *, progress: Progress = no_progress,
                     cancel: CancelToken | None = None, place_keyframes: bool = True) -> Project:
    """``path`` as a new Project titled after the file.

    Videos go through MediaPipe Holistic and fitting, ``.pose`` files through fitting,
    motion files are read as they are. Progress runs 0..1000 over the whole import.
    Raises the readers' errors (``KeypointFileError``, ``ProjectFileError``), each naming
    the file, and ``Cancelled``; nothing is written anywhere.
    """
    from engine.data.video_import import VIDEO_SUFFIXES

    path = Path(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from engine.data.fitting import fit_keypoints
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
