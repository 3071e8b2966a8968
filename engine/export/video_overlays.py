"""What a video shows besides the rendered avatar: captions blended into a band at the
bottom of each frame, and a panel of source keypoints drawn as dots and lines.

Captions use DejaVu Sans Bold, the TrueType font that ships inside matplotlib (a
dependency of pyvista) under ``mpl-data/fonts/ttf``; if matplotlib is missing we fall
back to Pillow's built-in scalable font (``ImageFont.load_default(size)``).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.data.keypoints import BODY_INDEX, KeypointSequence

#: ``(start_frame, end_frame, text)``: ``text`` shown over frames ``[start, end)``.
Caption = tuple[int, int, str]


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


class CaptionOverlay:
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


def caption_at(captions: Sequence[Caption], source_frame: float) -> str | None:
    """The text of the last caption covering ``source_frame`` (motion frames)."""
    text = None
    for start, end, caption in captions:
        if start <= source_frame < end:
            text = caption
    return text


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


class KeypointPanel:
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
