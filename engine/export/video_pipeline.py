"""The stages around the renderer in a video export: a thread that poses frames ahead of
it, and a writer thread that composes each rendered frame and streams it into ffmpeg.

ffmpeg is the binary shipped in the ``imageio-ffmpeg`` wheel. We run it ourselves
rather than through ``imageio_ffmpeg.write_frames`` because that helper neither checks
ffmpeg's exit status (a failed encode would be renamed into place) nor lets a cancel
kill the encoder instead of waiting for it to finish the file.
"""
from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine.body.base import BodyModel
from engine.motion.motion import Motion

#: Frames posed per ``body.forward`` call: large enough to amortise the GEMM, small
#: enough that a 1280x720 export never holds more than ~10 MB of vertices.
POSE_CHUNK = 64
#: How many composed frames may wait for the encoder.
QUEUE_FRAMES = 4


def ffmpeg_command(output: Path, width: int, height: int, fps: float) -> list[str]:
    """ffmpeg reading raw RGB frames (``width`` x ``height`` at ``fps``) from stdin and
    writing ``output`` in the format of its extension."""
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


class Encoder:
    """An ffmpeg process fed raw RGB frames through stdin from a writer thread."""

    def __init__(self, output: Path, width: int, height: int, fps: float, compose):
        self.output = output
        self._compose = compose
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(ffmpeg_command(output, width, height, fps),
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


class Poser:
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
