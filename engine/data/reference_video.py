"""A recording shown beside the avatar while its sign is refined: decoded once into small
JPEG frames kept in memory, read back by time.

Kept small on purpose: a frame at most ``MAX_HEIGHT`` pixels high, JPEG-compressed
(about 15 kB at 240 lines), so two minutes at 30 fps hold in about 50 MB where raw
frames would take 1.4 GB. Decoding uses imageio's pyav plugin, as video import does.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.jobs import Cancelled, CancelToken, Progress, no_progress

#: Pixels: frames are scaled down to at most this height.
MAX_HEIGHT = 240
#: Seconds of a recording kept at most (the rest is left out, and said).
MAX_SECONDS = 300.0
JPEG_QUALITY = 85


class ReferenceVideoError(ValueError):
    """A file that cannot be shown as a reference video; the message names it."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)


@dataclass(frozen=True)
class ReferenceVideo:
    """``frames``: JPEG bytes per frame; ``fps``: the recording's frame rate; ``size``:
    (width, height) pixels of the frames kept; ``truncated``: frames past
    ``MAX_SECONDS`` were left out."""

    path: str
    frames: tuple[bytes, ...]
    fps: float
    size: tuple[int, int]
    truncated: bool = False

    @property
    def duration(self) -> float:
        """Seconds the frames kept cover."""
        return len(self.frames) / self.fps

    def index_at(self, seconds: float) -> int:
        """The frame shown at ``seconds`` from the recording's start (clamped)."""
        return int(np.clip(np.floor(seconds * self.fps + 1e-6), 0, len(self.frames) - 1))

    def image_at(self, seconds: float) -> np.ndarray:
        """(H, W, 3) uint8: the frame at ``seconds``."""
        from PIL import Image

        with Image.open(io.BytesIO(self.frames[self.index_at(seconds)])) as image:
            return np.asarray(image.convert("RGB"))


def load_reference_video(path: str | Path, *, progress: Progress = no_progress,
                         cancel: CancelToken | None = None) -> ReferenceVideo:
    """Decode ``path`` into a ``ReferenceVideo``; ``ReferenceVideoError`` naming the file
    when it is missing or not a video. Reports progress per second of video and can be
    cancelled between frames."""
    import imageio.v3 as iio
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise ReferenceVideoError(path, "no such file")
    try:
        fps = float(iio.immeta(path, plugin="pyav").get("fps") or 0.0)
        total = iio.improps(path, plugin="pyav").shape[0] or 0
    except Exception as error:  # pyav raises several unrelated types for bad input
        raise ReferenceVideoError(path, f"not a readable video ({type(error).__name__})") \
            from None
    if not fps > 0:
        raise ReferenceVideoError(path, "the video has no frame rate")
    limit = int(MAX_SECONDS * fps)
    frames: list[bytes] = []
    size = (0, 0)
    truncated = False
    try:
        for number, frame in enumerate(iio.imiter(path, plugin="pyav")):
            if number >= limit:
                truncated = True
                break
            if cancel is not None:
                cancel.raise_if_cancelled()
            image = Image.fromarray(np.asarray(frame)[..., :3])
            if image.height > MAX_HEIGHT:
                image = image.resize((max(1, round(image.width * MAX_HEIGHT / image.height)),
                                      MAX_HEIGHT), Image.Resampling.BILINEAR)
            size = image.size
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
            frames.append(buffer.getvalue())
            if number % max(1, round(fps)) == 0:
                progress(number, max(total, number + 1), f"reading {path.name}: {number / fps:.0f} s")
    except Cancelled:
        raise
    except Exception as error:
        raise ReferenceVideoError(path, f"could not decode frame {len(frames)} "
                                        f"({type(error).__name__})") from None
    if not frames:
        raise ReferenceVideoError(path, "the video has no frames")
    return ReferenceVideo(str(path), tuple(frames), fps, size, truncated)
