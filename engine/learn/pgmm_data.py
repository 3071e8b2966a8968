"""The photoreal model's data: a signer's recordings as square crops with keypoints.

One fixed square crop per video, around everywhere the signer's body and hands go over
the whole clip (with a margin), so the background stays still and the signer keeps one
size; every frame is cropped to it and resized to ``size`` pixels. The pose condition is
MediaPipe Holistic's keypoints on the same frames (``engine.data.video_import``): 15 body
points (nose, eyes, ears, mouth corners, shoulders, elbows, wrists, hips) and both
hands' 21, in the crop's coordinates (-1 to 1, x right, y down: ``grid_sample``'s).

``Framing`` records where the signer stands in the crop (shoulders' midpoint and width)
and how long their arms are, so a Sign Studio motion can be drawn at the same place,
size and reach (``engine.export.photoreal.driving_points``). The arms are measured where
they hang at rest, upper arm and forearm within ``HANGING_DEGREES`` of straight down:
there they lie across the picture, where anywhere else an image length may be a
foreshortened one (a forearm pointing at the camera). MediaPipe's 3D "world" landmarks
were tried for this and read the avatar's own arms short (``docs/photoreal.md``).
Frames are held out by time: the last ``held_out_fraction`` of each video validates.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.jobs import CancelToken, Progress, no_progress

#: MediaPipe Pose indices used (of 33): face landmarks first, then the arms, the hips.
BODY_POINTS = (0, 2, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 23, 24)
NUM_KEYPOINTS = len(BODY_POINTS) + 2 * 21
LEFT_SHOULDER, RIGHT_SHOULDER = BODY_POINTS.index(11), BODY_POINTS.index(12)
#: A keypoint counts as seen above this confidence (MediaPipe Pose's visibility).
SEEN_CONFIDENCE = 0.5
#: How far the crop reaches past where the signer goes (a share of its side).
CROP_MARGIN = 0.12
#: An arm hangs when both its segments point within this of straight down.
HANGING_DEGREES = 30.0
#: Hanging frames (both arms together) needed before arm lengths count as measured.
MIN_HANGING_FRAMES = 10
#: MediaPipe Pose indices of (shoulder, elbow, wrist), the signer's left arm then right.
ARMS = ((11, 13, 15), (12, 14, 16))


@dataclass(frozen=True)
class Framing:
    """Where the crop is in the video (pixels: ``centre`` x, y and ``side``), where
    the signer stands in it (crop units: shoulders' ``shoulder_centre`` u, v and
    ``shoulder_width``, medians over the clip) and the signer's ``upper_arm`` and
    ``forearm`` lengths in shoulder widths (0: not measured, the avatar's are used)."""

    centre: tuple[float, float]
    side: float
    shoulder_centre: tuple[float, float]
    shoulder_width: float
    upper_arm: float = 0.0
    forearm: float = 0.0

    def as_array(self) -> np.ndarray:
        return np.array([*self.centre, self.side, *self.shoulder_centre, self.shoulder_width,
                         self.upper_arm, self.forearm], np.float32)

    @staticmethod
    def from_array(values) -> Framing:
        """From ``as_array``'s 8 values, or the first 6 (arms not measured)."""
        v = [float(x) for x in values] + [0.0] * (8 - len(values))
        return Framing((v[0], v[1]), v[2], (v[3], v[4]), v[5], v[6], v[7])


@dataclass(frozen=True)
class SignerFrames:
    """``images`` (N, 3, S, S) uint8, ``points`` (N, K, 2) float32 crop units, ``seen``
    (N, K) float32 0/1, ``video`` (N,) which video each frame is from, ``held_out``
    (N,) bool, and each video's ``framings``, ``fps`` and ``sources``."""

    images: np.ndarray
    points: np.ndarray
    seen: np.ndarray
    video: np.ndarray
    held_out: np.ndarray
    framings: tuple[Framing, ...]
    fps: tuple[float, ...]
    sources: tuple[str, ...]

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])


def sequence_pixels(sequence) -> tuple[np.ndarray, np.ndarray]:
    """(F, K, 2) pixel positions and (F, K) seen of a KeypointSequence read from a
    video, in ``NUM_KEYPOINTS`` order (the sequence's units turned back into pixels)."""
    if sequence.metadata.source_origin is None or not sequence.metadata.source_scale:
        raise ValueError(f"{sequence.metadata.source}: keypoints without their pixel frame")
    origin = np.asarray(sequence.metadata.source_origin[:2], np.float64)
    scale = float(sequence.metadata.source_scale)
    parts = [(sequence.body[:, list(BODY_POINTS)], sequence.confidence["body"][:, list(BODY_POINTS)]),
             (sequence.left_hand, sequence.confidence["left_hand"]),
             (sequence.right_hand, sequence.confidence["right_hand"])]
    points = np.concatenate([p[..., :2] for p, _ in parts], 1).astype(np.float64)
    # Pose visibility is continuous: a wrist MediaPipe guesses off the picture is not seen.
    seen = np.concatenate([c for _, c in parts], 1) > SEEN_CONFIDENCE
    pixels = origin + scale * np.stack([points[..., 0], -points[..., 1]], -1)
    return pixels, seen


def framing_of(pixels: np.ndarray, seen: np.ndarray, width: int, height: int) -> Framing:
    """The fixed square crop around where the seen points go over the clip."""
    if not seen.any():
        raise ValueError("no keypoint was seen on any frame")
    found = pixels[seen]
    low, high = np.percentile(found, 1, axis=0), np.percentile(found, 99, axis=0)
    side = float(max(high - low) * (1 + 2 * CROP_MARGIN))
    side = min(side, float(max(width, height)))
    centre = (low + high) / 2
    both = seen[:, LEFT_SHOULDER] & seen[:, RIGHT_SHOULDER]
    if not both.any():
        raise ValueError("the shoulders are never seen together")
    crop = (pixels - centre) / (side / 2)
    middle = np.median((crop[both, LEFT_SHOULDER] + crop[both, RIGHT_SHOULDER]) / 2, axis=0)
    span = np.median(np.linalg.norm(crop[both, LEFT_SHOULDER] - crop[both, RIGHT_SHOULDER], axis=1))
    upper_arm, forearm = hanging_arm_lengths(pixels, seen)
    return Framing((float(centre[0]), float(centre[1])), side,
                   (float(middle[0]), float(middle[1])), float(span), upper_arm, forearm)


def hanging_arm_lengths(pixels: np.ndarray, seen: np.ndarray) -> tuple[float, float]:
    """(upper arm, forearm) in shoulder widths: medians over the frames where an arm
    hangs (module docstring), both arms pooled; (0, 0) with fewer than
    ``MIN_HANGING_FRAMES`` such frames. ``pixels`` (F, K, 2) y down, ``seen`` (F, K)."""
    at = {index: BODY_POINTS.index(index) for arm in ARMS for index in arm}
    width = np.linalg.norm(pixels[:, LEFT_SHOULDER] - pixels[:, RIGHT_SHOULDER], axis=-1)
    shoulders = seen[:, LEFT_SHOULDER] & seen[:, RIGHT_SHOULDER] & (width > 0)
    cosine = np.cos(np.radians(HANGING_DEGREES))
    uppers, forearms = [], []
    for shoulder, elbow, wrist in ARMS:
        upper = pixels[:, at[elbow]] - pixels[:, at[shoulder]]
        fore = pixels[:, at[wrist]] - pixels[:, at[elbow]]
        up_length, fore_length = np.linalg.norm(upper, axis=-1), np.linalg.norm(fore, axis=-1)
        hangs = (shoulders & seen[:, at[elbow]] & seen[:, at[wrist]]
                 & (upper[:, 1] > cosine * up_length) & (fore[:, 1] > cosine * fore_length))
        uppers.append(up_length[hangs] / width[hangs])
        forearms.append(fore_length[hangs] / width[hangs])
    uppers, forearms = np.concatenate(uppers), np.concatenate(forearms)
    if len(uppers) < MIN_HANGING_FRAMES:
        return 0.0, 0.0
    return float(np.median(uppers)), float(np.median(forearms))


def crop_frame(frame: np.ndarray, framing: Framing, size: int) -> np.ndarray:
    """(3, size, size) uint8: ``frame`` (H, W, 3) cut to the framing's square (edge
    pixels repeated past the picture) and resized with antialiasing."""
    import torch
    import torch.nn.functional as F

    half = framing.side / 2
    x0, y0 = framing.centre[0] - half, framing.centre[1] - half
    image = torch.from_numpy(np.ascontiguousarray(frame[..., :3])).permute(2, 0, 1)[None].float()
    h, w = frame.shape[:2]
    # Sample the square through a grid: pixels outside the frame repeat its border.
    xs = torch.linspace(x0, x0 + framing.side, size) / (w - 1) * 2 - 1
    ys = torch.linspace(y0, y0 + framing.side, size) / (h - 1) * 2 - 1
    scale = framing.side / size
    if scale > 1.5:  # shrinking a lot: blur first, as antialiased resizing does
        image = F.interpolate(image, scale_factor=1 / scale, mode="area")
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], -1)[None]
    out = F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out[0].round().clamp(0, 255).to(torch.uint8).numpy()


def signer_frames(videos: list[str | Path], size: int = 128, held_out_fraction: float = 0.15,
                  progress: Progress = no_progress, cancel: CancelToken | None = None
                  ) -> SignerFrames:
    """Every frame of ``videos`` (one signer) as crops with keypoints (see the module
    docstring). Raises ``KeypointFileError`` for an unreadable video or one with no
    person, ValueError when a video is too short to hold frames out."""
    import imageio.v3 as iio

    from engine.data.video_import import read_video_keypoints

    images, points, seens, owners, held, framings, rates, sources = [], [], [], [], [], [], [], []
    for number, video in enumerate(videos):
        def part(done, total, message="", number=number, name=Path(video).name):
            progress(number * 2 * max(total, 1) + done, 2 * len(videos) * max(total, 1),
                     f"{name}: keypoints {message}")

        sequence = read_video_keypoints(video, progress=part, cancel=cancel)
        pixels, seen = sequence_pixels(sequence)
        # Decoded again, one frame at a time: a recording at full size would not fit in
        # memory (a minute of 1080p is 11 GB), its crops do (a minute is 88 MB).
        crops, framing = [], None
        for index, frame in enumerate(iio.imiter(video, plugin="pyav")):
            if index >= len(pixels):
                break
            if cancel is not None:
                cancel.raise_if_cancelled()
            if framing is None:
                try:
                    framing = framing_of(pixels, seen, frame.shape[1], frame.shape[0])
                except ValueError as error:
                    raise ValueError(f"{video}: {error}; the signer must be in the picture "
                                     "with both shoulders") from None
            crops.append(crop_frame(frame, framing, size))
            if index % 10 == 0:
                progress(number * 2 * len(pixels) + len(pixels) + index,
                         2 * len(videos) * len(pixels), f"{Path(video).name}: frame {index + 1}")
        count = len(crops)  # a second decode may give fewer frames than the first
        pixels, seen = pixels[:count], seen[:count]
        keep = int(round(count * held_out_fraction))
        if held_out_fraction > 0 and (keep < 1 or count - keep < 2):
            raise ValueError(f"{video}: {count} frames are too few to hold out "
                             f"{held_out_fraction:.0%} for validation")
        images.extend(crops)
        crop = (pixels - np.asarray(framing.centre)) / (framing.side / 2)
        points.append(crop.astype(np.float32))
        seens.append(seen.astype(np.float32))
        owners.append(np.full(count, number))
        held.append(np.arange(count) >= count - keep)
        framings.append(framing)
        rates.append(float(sequence.fps))
        sources.append(str(video))
    return SignerFrames(np.stack(images), np.concatenate(points), np.concatenate(seens),
                        np.concatenate(owners), np.concatenate(held), tuple(framings),
                        tuple(rates), tuple(sources))
