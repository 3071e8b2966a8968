"""Video export: a Motion on an avatar, rendered off-screen, to MP4, GIF or WebM.

Pipeline (one thread owns VTK; see ARCHITECTURE.md "Jobs and rendering"):

* posing: ``body.forward`` on chunks of ``POSE_CHUNK`` frames (one GEMM per chunk, so
  the whole clip is never held as vertices);
* rendering: one ``OffscreenRenderer`` whose mesh points are updated in place, in the
  calling thread;
* a writer thread composes each rendered frame (keypoint panel, caption) with Pillow
  and streams raw RGB into ffmpeg's stdin. A short queue bounds memory to a few
  frames and lets the encoder (a separate process) work while the next frame renders.

ffmpeg is the binary shipped in the ``imageio-ffmpeg`` wheel. We run it ourselves
rather than through ``imageio_ffmpeg.write_frames`` because that helper neither checks
ffmpeg's exit status (a failed encode would be renamed into place) nor lets a cancel
kill the encoder instead of waiting for it to finish the file.

Output goes through ``engine.atomic.atomic_output``: a cancelled or failed export leaves
no partial file and any previous file at ``path`` untouched.

Captions use DejaVu Sans Bold, the TrueType font that ships inside matplotlib (a
dependency of pyvista) under ``mpl-data/fonts/ttf``; if matplotlib is missing we fall
back to Pillow's built-in scalable font (``ImageFont.load_default(size)``).
"""
from __future__ import annotations

import math
import queue
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from engine.atomic import atomic_output
from engine.body.base import BodyModel
from engine.data.keypoints import BODY_INDEX, KeypointSequence
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.motion import Motion
from engine.motion.resample import resample

#: Extensions we write, and what ffmpeg makes of them.
VIDEO_FORMATS = (".mp4", ".gif", ".webm")
#: Frames posed per ``body.forward`` call: large enough to amortise the GEMM, small
#: enough that a 1280x720 export never holds more than ~10 MB of vertices.
POSE_CHUNK = 64
#: How many composed frames may wait for the encoder.
QUEUE_FRAMES = 4
MIN_SIZE, MAX_SIZE = 16, 8192

Caption = tuple[int, int, str]


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


# -- captions ----------------------------------------------------------------------------

@lru_cache(maxsize=8)
def caption_font(size: int):
    """A readable TrueType font at ``size`` pixels (see the module docstring)."""
    from PIL import ImageFont

    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


class _CaptionOverlay:
    """Pre-renders each caption once as an RGBA band and blends it onto frames.

    The band covers the bottom ``band_height`` rows: a translucent dark box behind
    white text, so it reads on any background and the hands stay faintly visible.
    """

    def __init__(self, width: int, height: int):
        self.width = width
        self.band_height = max(14, round(height * 0.14))
        self.font_size = max(10, round(self.band_height * 0.62))
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _band(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if text not in self._cache:
            from PIL import Image, ImageDraw

            band = Image.new("RGBA", (self.width, self.band_height), (0, 0, 0, 0))
            draw = ImageDraw.Draw(band)
            font = caption_font(self.font_size)
            left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
            pad = max(4, self.band_height // 6)
            box_w = min(self.width, right - left + 2 * pad)
            x0 = (self.width - box_w) // 2
            draw.rounded_rectangle((x0, 1, x0 + box_w - 1, self.band_height - 2),
                                   radius=pad, fill=(20, 20, 20, 190))
            draw.text((self.width / 2, self.band_height / 2), text, font=font,
                      fill=(255, 255, 255, 255), anchor="mm")
            rgba = np.asarray(band, dtype=np.float32)
            alpha = rgba[..., 3:] / 255.0
            self._cache[text] = (rgba[..., :3] * alpha, 1.0 - alpha)
        return self._cache[text]

    def apply(self, frame: np.ndarray, text: str) -> None:
        """Blend ``text``'s band onto the bottom of ``frame`` (H, W, 3) uint8, in place."""
        premultiplied, keep = self._band(text)
        region = frame[-self.band_height:]
        region[:] = (region * keep + premultiplied + 0.5).astype(np.uint8)


def _caption_at(captions: Sequence[Caption], source_frame: float) -> str | None:
    """The text of the last caption covering ``source_frame`` (motion frames)."""
    text = None
    for start, end, caption in captions:
        if start <= source_frame < end:
            text = caption
    return text


# -- keypoint panel ----------------------------------------------------------------------

def _chain(*names: str) -> list[tuple[int, int]]:
    ids = [BODY_INDEX[n] for n in names]
    return list(zip(ids[:-1], ids[1:]))


#: Upper-body skeleton drawn from the MediaPipe Pose landmarks (signing space only:
#: legs are usually out of frame and unreliable in sign recordings).
BODY_LINES = (
    _chain("LEFT_SHOULDER", "RIGHT_SHOULDER")
    + _chain("LEFT_SHOULDER", "LEFT_ELBOW", "LEFT_WRIST")
    + _chain("RIGHT_SHOULDER", "RIGHT_ELBOW", "RIGHT_WRIST")
    + _chain("LEFT_SHOULDER", "LEFT_HIP", "RIGHT_HIP", "RIGHT_SHOULDER")
    + _chain("MOUTH_LEFT", "MOUTH_RIGHT")
    + _chain("LEFT_EAR", "LEFT_EYE", "NOSE", "RIGHT_EYE", "RIGHT_EAR")
)
_UPPER_BODY = sorted({i for line in BODY_LINES for i in line})
#: Hand skeleton over HAND_POINT_NAMES: each finger from the wrist, plus the knuckle line.
HAND_LINES = (
    [(0, 1), (1, 2), (2, 3), (3, 4)]
    + [(0, 5), (5, 6), (6, 7), (7, 8)]
    + [(9, 10), (10, 11), (11, 12)]
    + [(13, 14), (14, 15), (15, 16)]
    + [(0, 17), (17, 18), (18, 19), (19, 20)]
    + [(5, 9), (9, 13), (13, 17)]
)
BODY_COLOUR, FACE_COLOUR = (90, 90, 90), (150, 150, 150)
LEFT_HAND_COLOUR, RIGHT_HAND_COLOUR = (30, 110, 220), (220, 70, 40)


class _KeypointPanel:
    """Draws one KeypointSequence frame as dots and lines on a (height, width) panel.

    Orthographic front view of x, y (the sequence's frame: +X the subject's left, which
    is image right as in the avatar's front camera; +Y up). One scale for the whole clip,
    fitted to the detected points, so the signer does not zoom from frame to frame.
    """

    def __init__(self, keypoints: KeypointSequence, width: int, height: int,
                 background: tuple[int, int, int]):
        self.keypoints, self.width, self.height = keypoints, width, height
        self.background = background
        seen = []
        for name, ids in (("body", _UPPER_BODY), ("left_hand", None), ("right_hand", None),
                          ("face", None)):
            points = keypoints.points(name)[:, ids] if ids else keypoints.points(name)
            conf = keypoints.confidence[name][:, ids] if ids else keypoints.confidence[name]
            seen.append(points[conf > 0][:, :2])
        xy = np.concatenate(seen) if seen else np.zeros((0, 2))
        if len(xy) == 0:
            lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
        else:
            lo, hi = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)
        span = np.maximum(hi - lo, 1e-6)
        self.scale = 0.88 * min(width / span[0], height / span[1])
        self.centre = (lo + hi) / 2
        self.dot = max(1, round(height / 180))
        self.line = max(1, round(height / 240))

    def _to_pixels(self, xy: np.ndarray) -> np.ndarray:
        px = (xy[:, 0] - self.centre[0]) * self.scale + self.width / 2
        py = self.height / 2 - (xy[:, 1] - self.centre[1]) * self.scale
        return np.stack([px, py], axis=1)

    def draw(self, frame: int) -> np.ndarray:
        """(height, width, 3) uint8 picture of keypoint frame ``frame``; blank past the end."""
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (self.width, self.height), self.background)
        if frame >= self.keypoints.num_frames:
            return np.asarray(image)
        draw = ImageDraw.Draw(image)
        kp = self.keypoints

        face_ok = kp.confidence["face"][frame] > 0
        face = self._to_pixels(kp.face[frame][face_ok, :2])
        draw.point([tuple(p) for p in face], fill=FACE_COLOUR)

        parts = (("body", BODY_LINES, BODY_COLOUR, _UPPER_BODY),
                 ("left_hand", HAND_LINES, LEFT_HAND_COLOUR, range(21)),
                 ("right_hand", HAND_LINES, RIGHT_HAND_COLOUR, range(21)))
        for name, lines, colour, ids in parts:
            ok = kp.confidence[name][frame] > 0
            pixels = self._to_pixels(kp.points(name)[frame, :, :2])
            for a, b in lines:
                if ok[a] and ok[b]:
                    draw.line([tuple(pixels[a]), tuple(pixels[b])], fill=colour, width=self.line)
            r = self.dot
            for i in ids:
                if ok[i]:
                    x, y = pixels[i]
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        return np.asarray(image)


# -- encoding ----------------------------------------------------------------------------

def _ffmpeg_command(output: Path, width: int, height: int, fps: float) -> list[str]:
    import imageio_ffmpeg

    rate = str(Fraction(fps).limit_denominator(1001))
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
           "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
           "-r", rate, "-i", "-", "-an"]
    suffix = output.suffix.lower()
    if suffix == ".mp4":
        # veryfast + CRF 18: visually clean flat-shaded avatar at a fraction of the CPU
        # of the default "medium"; faststart puts the index first for web players.
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
                "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    elif suffix == ".webm":
        # libvpx's realtime mode is ~10x faster than "good"; row-mt uses both cores.
        cmd += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                "-row-mt", "1", "-crf", "30", "-b:v", "0", "-pix_fmt", "yuv420p"]
    else:  # .gif: one palette for the clip, built from the frames themselves
        cmd += ["-vf", "split[a][b];[a]palettegen=stats_mode=diff[p];"
                       "[b][p]paletteuse=dither=bayer:bayer_scale=4", "-loop", "0"]
    cmd += ["-f", {".mp4": "mp4", ".webm": "webm", ".gif": "gif"}[suffix], str(output)]
    return cmd


class _Encoder:
    """An ffmpeg process fed raw RGB frames through stdin from a writer thread."""

    def __init__(self, output: Path, width: int, height: int, fps: float, compose):
        self.output = output
        self._compose = compose
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(_ffmpeg_command(output, width, height, fps),
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=self._log)
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self.error: BaseException | None = None
        self.compose_seconds = 0.0
        self.wait_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="video-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                if self.error is not None:
                    continue  # drain so the producer never blocks
                index, image = item
                started = time.perf_counter()
                frame = self._compose(index, image)
                self.compose_seconds += time.perf_counter() - started
                self._process.stdin.write(np.ascontiguousarray(frame, np.uint8).data)
        except BaseException as error:  # reported to the producer thread
            self.error = error
            while self._queue.get() is not None:
                pass

    def put(self, index: int, image: np.ndarray) -> None:
        self._raise_if_failed()
        started = time.perf_counter()
        self._queue.put((index, image))
        self.wait_seconds += time.perf_counter() - started

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise self._failure(self.error)

    def _failure(self, cause: BaseException | None) -> RuntimeError:
        self._log.seek(0)
        log = self._log.read().decode("utf-8", "replace").strip()[-2000:]
        reason = f"ffmpeg exited with status {self._process.poll()}" if not cause else str(cause)
        return RuntimeError(f"export_video: encoding {self.output.name} failed: {reason}"
                            + (f"\nffmpeg said: {log}" if log else ""))

    def finish(self) -> None:
        """Flush the queue, close ffmpeg's input and wait; raise if anything failed."""
        started = time.perf_counter()
        self._queue.put(None)
        self._thread.join()
        if self.error is None:
            self._process.stdin.close()
            status = self._process.wait()
        else:
            self.abort()
            status = None
        self.wait_seconds += time.perf_counter() - started
        if self.error is not None or status != 0:
            error = self._failure(self.error)
            self._log.close()
            raise error
        self._log.close()

    def abort(self) -> None:
        """Stop at once (cancel or error elsewhere): kill ffmpeg, stop the thread."""
        if self._thread.is_alive():
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        # The writer may have been blocked writing to the dead pipe; it now fails, drains
        # and exits. Unblock a full queue for it too.
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.05)
            except queue.Full:
                pass
            self._thread.join(timeout=0.05)
        for stream in (self._process.stdin, self._log):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


class _Poser:
    """Poses frames and computes their normals in a thread, ahead of the renderer.

    numpy releases the GIL in its gathers and products, so this overlaps with VTK's
    render (which leaves a core partly idle while it uploads buffers). Frames come out
    in order from ``frames()`` as (index, vertices (V, 3), normals (V, 3)).
    """

    def __init__(self, body: BodyModel, motion: Motion, faces: np.ndarray):
        from engine.export.render import vertex_normals

        self._queue: queue.Queue = queue.Queue(maxsize=2 * QUEUE_FRAMES)
        self._stop = threading.Event()
        self.seconds = 0.0

        def run() -> None:
            try:
                for start in range(0, motion.num_frames, POSE_CHUNK):
                    began = time.perf_counter()
                    chunk = slice(start, min(motion.num_frames, start + POSE_CHUNK))
                    vertices = body.forward(motion, chunk).vertices
                    self.seconds += time.perf_counter() - began
                    for offset, frame_vertices in enumerate(vertices):
                        item = (start + offset, frame_vertices,
                                vertex_normals(frame_vertices, faces))
                        if not self._put(item):
                            return
                self._put(None)
            except BaseException as error:  # handed to the consumer
                self._put(error)

        self._thread = threading.Thread(target=run, name="video-poser", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def frames(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# -- the export --------------------------------------------------------------------------

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
    from engine.export.render import ANTI_ALIASING, CAMERA_PRESETS, OffscreenRenderer

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
    panel = _KeypointPanel(keypoints, width, height, background) if keypoints else None
    # Captions sit under the avatar (not across the keypoint panel): they say what the
    # avatar signs.
    overlay = _CaptionOverlay(width, height) if captions else None

    def compose(index: int, image: np.ndarray) -> np.ndarray:
        if panel is not None:
            image = np.concatenate([image, panel.draw(index)], axis=1)
        if overlay is not None:
            text = _caption_at(captions, index * source_fps / fps)
            if text:
                overlay.apply(image[:, :width], text)  # a view: blended in place
        return image

    # The camera is aimed once, from up to 64 frames spread over the clip: a fixed
    # camera reads better than one that follows the hands.
    first, last = 0, total - 1
    if aim_frames is not None:  # source frames -> output frames
        first = min(last, int(math.ceil(low * fps / source_fps)))
        last = max(first, min(last, int((high - 1) * fps / source_fps)))
    count = last - first + 1
    sample = np.unique(np.linspace(first, last, min(count, 64)).round().astype(np.intp))
    aim_joints = body.forward(motion, sample).joints

    with OffscreenRenderer(body, width, height, background, anti_aliasing) as renderer:
        renderer.set_camera(camera, aim_joints)
        with atomic_output(path) as temp_path:
            encoder = _Encoder(temp_path, out_width, height, fps, compose)
            poser = _Poser(body, motion, np.asarray(body.faces))
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
