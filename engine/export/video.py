"""Video export: a Motion on an avatar, rendered off-screen, to MP4, GIF or WebM.

Pipeline (one thread owns VTK: jobs render on their own lane):

* posing: ``body.forward`` on chunks of ``POSE_CHUNK`` frames (one GEMM per chunk, so
  the whole clip is never held as vertices);
* rendering: one ``OffscreenRenderer`` whose mesh points are updated in place, in the
  calling thread;
* a writer thread composes each rendered frame (keypoint panel, caption) with Pillow
  and streams raw RGB into ffmpeg's stdin. A short queue bounds memory to a few
  frames and lets the encoder (a separate process) work while the next frame renders.

Output goes through ``engine.atomic.atomic_output``: a cancelled or failed export leaves
no partial file and any previous file at ``path`` untouched. The posing and encoding
threads are in ``video_pipeline``, captions and the keypoint panel in ``video_overlays``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import atomic_output
from engine.body.base import BodyModel
from engine.data.keypoints import KeypointSequence
from engine.export.video_overlays import Caption, CaptionOverlay, KeypointPanel, caption_at, caption_font
from engine.export.video_pipeline import Encoder, Poser
from engine.io import Kind, suffixes
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.motion import Motion
from engine.motion.resample import resample

# caption_font's home is video_overlays; it is importable from here too, as before.
__all__ = ["MAX_SIZE", "MIN_SIZE", "VIDEO_FORMATS", "Caption", "VideoTimings", "caption_font",
           "captions_from_segments", "export_video", "signs_span"]

#: Extensions we write, and what ffmpeg makes of them.
VIDEO_FORMATS = suffixes(Kind.VIDEO, "write")
MIN_SIZE, MAX_SIZE = 16, 8192


@dataclass
class VideoTimings:
    """Seconds spent per stage of an export (what ``bench/export_video.py`` prints).

    ``pose``: body.forward (posing thread); ``render``: VTK render + read-back;
    ``compose``: captions and keypoint panel (writer thread); ``encode_wait``: time the
    renderer waited on a full queue plus the final flush of the encoder; ``total``.
    """

    pose: float = 0.0
    render: float = 0.0
    compose: float = 0.0
    encode_wait: float = 0.0
    total: float = 0.0
    frames: int = 0


# -- arguments -------------------------------------------------------------------------

def _check_size(name: str, value: object, suffix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"export_video: {name} must be an integer number of pixels, "
                         f"got {value!r}")
    value = int(value)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise ValueError(f"export_video: {name} must be {MIN_SIZE}..{MAX_SIZE} pixels, "
                         f"got {value}")
    if suffix in (".mp4", ".webm") and value % 2:
        # yuv420p stores colour at half resolution, so both sides must be even. We do
        # not round silently: a caller asking for 161 px should learn it got 160.
        raise ValueError(f"export_video: {name} must be even for {suffix} (yuv420p halves "
                         f"the colour resolution), got {value}; use {value - 1} or "
                         f"{value + 1}")
    return value


def _check_captions(captions: Iterable[Caption] | None) -> list[Caption]:
    if captions is None:
        return []
    checked: list[Caption] = []
    for index, item in enumerate(captions):
        try:
            start, end, text = item
        except (TypeError, ValueError):
            raise ValueError(f"export_video: captions[{index}] must be (start_frame, "
                             f"end_frame, text), got {item!r}") from None
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (start, end)):
            raise ValueError(f"export_video: captions[{index}] frames must be integers, "
                             f"got {start!r}, {end!r}")
        if not 0 <= start < end:
            raise ValueError(f"export_video: captions[{index}] must have 0 <= start < end, "
                             f"got {start}, {end}")
        if not isinstance(text, str):
            raise ValueError(f"export_video: captions[{index}] text must be a string, "
                             f"got {text!r}")
        checked.append((int(start), int(end), text))
    return checked


def _check_background(background: object) -> tuple[int, int, int]:
    try:
        values = tuple(int(v) for v in background)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise ValueError(f"export_video: background must be (r, g, b) with 0..255 each, "
                         f"got {background!r}")
    return values  # type: ignore[return-value]


def captions_from_segments(segments: Iterable) -> list[Caption]:
    """Captions ``(start_frame, end_frame, gloss)`` from a project's segments.

    ``segments``: ``Project.segments`` (objects with ``start``, ``end`` and ``gloss``),
    frames of the project's motion. Transition segments are skipped: they sign nothing.
    """
    captions = []
    for segment in segments:
        kind = getattr(getattr(segment, "kind", None), "value", None)
        if kind == "transition":
            continue
        captions.append((int(segment.start), int(segment.end), str(segment.gloss)))
    return captions


def signs_span(segments: Iterable) -> tuple[int, int] | None:
    """``[start, stop)`` frames from the first sign's start to the last sign's end, or
    None without signs: what a camera should be aimed at (``export_video``'s
    ``aim_frames``). An assembled utterance rises from rest before its first sign and
    drops back after its last; a hands close-up aimed over those frames too would widen
    to the waist for the whole clip and make every handshape small."""
    signed = captions_from_segments(segments)
    if not signed:
        return None
    return min(start for start, _, _ in signed), max(end for _, end, _ in signed)


def export_video(motion: Motion, path: str | Path, *, body: BodyModel | None = None,
                 width: int = 1280, height: int = 720, fps: float | None = None,
                 camera: str = "front",
                 background: tuple[int, int, int] = (255, 255, 255),
                 captions: Iterable[Caption] | None = None,
                 keypoints: KeypointSequence | None = None,
                 anti_aliasing: str = "none",
                 aim_frames: tuple[int, int] | None = None,
                 progress: Progress | None = None,
                 cancel: CancelToken | None = None,
                 timings: VideoTimings | None = None) -> Path:
    """Render ``motion`` on ``body`` and write a video to ``path``; returns ``path``.

    ``path``: format from the extension: ``.mp4`` (H.264, yuv420p), ``.webm`` (VP9,
    yuv420p) or ``.gif`` (one palette for the clip). ``body``: the avatar
    (default: the embedded one). ``width`` x ``height``: pixels of the avatar view;
    even for .mp4/.webm. ``fps``: output frame rate (default ``motion.fps``; otherwise the
    motion is resampled with ``engine.motion.resample``). ``camera``: a preset of
    ``engine.export.render.CAMERA_PRESETS``, aimed once for the whole clip.
    ``background``: (r, g, b) 0..255. ``captions``: ``(start_frame, end_frame, text)``
    in frames of ``motion`` (``[start, end)``; see ``captions_from_segments``), drawn at
    the bottom of the avatar view while active. ``keypoints``: source keypoints drawn on a panel of the
    same size right of the avatar (the output is then ``2 * width`` wide), matched by
    time (resampled to the output fps; blank after its last frame).
    ``anti_aliasing``: "none" (default; ~3x faster, keeps 720p real time on 2 cores),
    "msaa" or "ssaa" (see ``OffscreenRenderer``). ``aim_frames``: ``[start, stop)``
    frames of ``motion`` the camera is aimed at (default: all; a project's
    ``signs_span``), the rest of the clip is seen through the same camera.
    ``progress(done, total, message)``
    is called per frame; ``cancel`` is checked between frames and raises ``Cancelled``.
    ``timings``: filled in with seconds per stage when given.

    Nothing is written unless the whole video was: on error or cancel ``path`` keeps its
    previous content (or stays absent).
    """
    from engine.export.render import (
        ANTI_ALIASING, CAMERA_PRESETS, OffscreenRenderer, aim_frames_sample,
    )

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_FORMATS:
        raise ValueError(f"export_video: {path}: unknown video extension {path.suffix!r}; "
                         f"expected one of {', '.join(VIDEO_FORMATS)}")
    if not isinstance(motion, Motion):
        raise TypeError(f"export_video: motion must be a Motion, got {type(motion).__name__}")
    width = _check_size("width", width, suffix)
    height = _check_size("height", height, suffix)
    if fps is None:
        fps = motion.fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"export_video: fps must be a finite number > 0, got {fps!r}")
    fps = float(fps)
    if camera not in CAMERA_PRESETS:
        raise ValueError(f"export_video: camera must be one of {sorted(CAMERA_PRESETS)}, "
                         f"got {camera!r}")
    if anti_aliasing not in ANTI_ALIASING:
        raise ValueError(f"export_video: anti_aliasing must be one of {ANTI_ALIASING}, "
                         f"got {anti_aliasing!r}")
    background = _check_background(background)
    captions = _check_captions(captions)
    if aim_frames is not None:
        expected = (f"export_video: aim_frames: expected [start, stop) within the motion's "
                    f"{motion.num_frames} frames, got {aim_frames!r}")
        try:
            low, high = (int(v) for v in aim_frames)
        except (TypeError, ValueError):
            raise ValueError(expected) from None
        if not 0 <= low < high <= motion.num_frames:
            raise ValueError(expected)
    if keypoints is not None and not isinstance(keypoints, KeypointSequence):
        raise TypeError(f"export_video: keypoints must be a KeypointSequence, "
                        f"got {type(keypoints).__name__}")
    progress = progress or no_progress
    timings = timings if timings is not None else VideoTimings()
    started = time.perf_counter()

    source_fps = motion.fps
    if not math.isclose(fps, motion.fps):
        motion = resample(motion, fps)
    if keypoints is not None and not math.isclose(keypoints.fps, fps):
        keypoints = keypoints.resample(fps)
    if body is None:
        from engine.body import default_avatar

        body = default_avatar()

    total = motion.num_frames
    out_width = 2 * width if keypoints is not None else width
    panel = KeypointPanel(keypoints, width, height, background) if keypoints else None
    # Captions sit under the avatar (not across the keypoint panel): they say what the
    # avatar signs.
    overlay = CaptionOverlay(width, height) if captions else None

    def compose(index: int, image: np.ndarray) -> np.ndarray:
        if panel is not None:
            image = np.concatenate([image, panel.draw(index)], axis=1)
        if overlay is not None:
            text = caption_at(captions, index * source_fps / fps)
            if text:
                overlay.apply(image[:, :width], text)  # a view: blended in place
        return image

    # The camera is aimed once, from up to 64 frames spread over the clip: a fixed
    # camera reads better than one that follows the hands.
    first, last = 0, total - 1
    if aim_frames is not None:  # source frames -> output frames
        first = min(last, int(math.ceil(low * fps / source_fps)))
        last = max(first, min(last, int((high - 1) * fps / source_fps)))
    sample = aim_frames_sample(total, (first, last + 1))
    aim_joints = body.forward(motion, sample).joints

    with OffscreenRenderer(body, width, height, background, anti_aliasing) as renderer:
        renderer.set_camera(camera, aim_joints)
        with atomic_output(path) as temp_path:
            encoder = Encoder(temp_path, out_width, height, fps, compose)
            poser = Poser(body, motion, np.asarray(body.faces))
            try:
                for index, vertices, normals in poser.frames():
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    t0 = time.perf_counter()
                    image = renderer.render(vertices, normals)
                    timings.render += time.perf_counter() - t0
                    encoder.put(index, image)
                    progress(index + 1, total, f"rendering frame {index + 1}/{total}")
                encoder.finish()
            except BaseException:
                encoder.abort()
                raise
            finally:
                poser.stop()
                timings.pose += poser.seconds
    timings.compose += encoder.compose_seconds
    timings.encode_wait += encoder.wait_seconds
    timings.frames += total
    timings.total += time.perf_counter() - started
    return path
