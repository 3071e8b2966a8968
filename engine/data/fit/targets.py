"""What the fit is compared with: MediaPipe keypoints gathered in model-point order,
the per-clip hand size, which thumb contacts the 2D data suggest, and the hand
reprojection error of a fit."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.body.skeleton import JOINT_INDEX
from engine.data.fit.constants import (
    CONTACT_2D, FINGERS, HAND_SIZE_PERCENTILE, LONG_FINGERS, MEDIAPIPE_FINGER_POINTS, SIDES,
    FitWeights,
)
from engine.data.fit.skeleton import FitSkeleton, model_hand_points
from engine.data.keypoints import BODY_INDEX, HAND_INDEX, KeypointSequence
from engine.motion.errors import MotionError

#: MediaPipe body landmark -> SMPL-X joint, per side (``LEFT_SHOULDER`` -> ``left_shoulder``).
_BODY_JOINTS = (("SHOULDER", "shoulder"), ("ELBOW", "elbow"), ("WRIST", "wrist"), ("HIP", "hip"))


@dataclass(frozen=True)
class Targets:
    """Keypoints gathered in model-point order. ``points`` (F, K, 3) shoulder widths,
    ``weight`` (F, K) confidence x term weight / unit^2, ``model`` (K,) model point
    index, ``hand`` (K,) which hand (0 none, 1 left, 2 right); each hand's columns are
    its wrist, then 4 points per finger in SMPL-X finger order."""

    points: np.ndarray
    weight: np.ndarray
    model: np.ndarray
    hand: np.ndarray


def check_sequence(seq: KeypointSequence) -> None:
    """Raise ``MotionError`` for a sequence the fitter cannot place: not a
    ``KeypointSequence``, not in shoulder widths, or with no frame showing both shoulders."""
    if not isinstance(seq, KeypointSequence):
        raise MotionError(f"fit_keypoints: expected a KeypointSequence, got {type(seq).__name__}")
    if seq.metadata.units != "shoulder_width":
        raise MotionError(
            f"fit_keypoints: keypoints of {seq.metadata.source or 'the sequence'} are in "
            f"{seq.metadata.units!r}; expected 'shoulder_width' (see engine.data.pose_reader)")
    conf = seq.confidence["body"]
    both = (conf[:, BODY_INDEX["LEFT_SHOULDER"]] > 0) & (conf[:, BODY_INDEX["RIGHT_SHOULDER"]] > 0)
    if not both.any():
        raise MotionError(
            f"fit_keypoints: {seq.metadata.source or 'the sequence'}: field body: both shoulders "
            "are never seen; expected them on at least one frame to place the avatar")


def hand_sizes(seq: KeypointSequence) -> dict[str, float]:
    """A robust per-clip hand size per side (shoulder widths, NaN when never seen): the
    ``HAND_SIZE_PERCENTILE`` over frames of the wrist -> middle MCP distance (2D when
    ``is_2d``)."""
    sizes = {}
    for side in SIDES:
        size = seq.hand_size(side)
        size = size[np.isfinite(size)]
        sizes[side] = float(np.percentile(size, HAND_SIZE_PERCENTILE)) if size.size else float("nan")
    return sizes


def gather_targets(seq: KeypointSequence, sk: FitSkeleton, weights: FitWeights,
                   sizes: Mapping[str, float]) -> Targets:
    """The body, head and hand keypoints with their model points and weights. Hand
    points are weighted per hand size squared, so hands count the same at any size."""
    pts, wts, model, hand = [], [], [], []

    def add(points: np.ndarray, conf: np.ndarray, model_index: int, weight: float, which: int):
        pts.append(points)
        wts.append(conf * weight)
        model.append(model_index)
        hand.append(which)

    j = JOINT_INDEX
    body, conf = seq.body, seq.confidence["body"]
    for side in SIDES:
        upper = side.upper()
        for mp, ours in _BODY_JOINTS:
            k = BODY_INDEX[f"{upper}_{mp}"]
            add(body[:, k], conf[:, k], j[f"{side}_{ours}"], weights.body, 0)
        k = BODY_INDEX[f"{upper}_EYE"]
        add(body[:, k], conf[:, k], j[f"{side}_eye_smplhf"], weights.head, 0)
        k = BODY_INDEX[f"{upper}_EAR"]
        add(body[:, k], conf[:, k], sk.nose_index + (1 if side == "left" else 2), weights.head, 0)
    k = BODY_INDEX["NOSE"]
    add(body[:, k], conf[:, k], sk.nose_index, weights.head, 0)

    for which, side in ((1, "left"), (2, "right")):
        comp = f"{side}_hand"
        hp, hc = seq.points(comp), seq.confidence[comp]
        size = sizes[side]
        if not np.isfinite(size) or size <= 0:
            continue  # never seen: nothing to fit
        unit = 1.0 / size ** 2
        marks = sk.landmark_index[side]
        add(hp[:, HAND_INDEX["WRIST"]], hc[:, HAND_INDEX["WRIST"]], marks[HAND_INDEX["WRIST"]],
            weights.hand_wrist * unit, which)
        for finger in FINGERS:
            for name in MEDIAPIPE_FINGER_POINTS[finger]:
                add(hp[:, HAND_INDEX[name]], hc[:, HAND_INDEX[name]], marks[HAND_INDEX[name]],
                    weights.hand * unit, which)
    return Targets(
        points=np.stack(pts, 1).astype(np.float32), weight=np.stack(wts, 1).astype(np.float32),
        model=np.array(model, np.int64), hand=np.array(hand, np.int64),
    )


def contact_mask(seq: KeypointSequence, sizes: Mapping[str, float]) -> np.ndarray:
    """(F, 24) bool, ``HandVolume.contact_*`` order (2 hands x 4 fingers x tip, PIP,
    DIP): which finger points each thumb tip is pulled onto, per frame. Every fingertip
    within ``CONTACT_2D`` hand sizes of the thumb tip in 2D (the tips gather on the thumb
    in O, E and flat O), plus the ONE PIP or DIP nearest to it in 2D if that is within
    reach: a thumb across a fist is near several at once and cannot touch them all.
    """
    names = {1: "TIP", 2: "PIP", 3: "DIP"}
    out = []
    for side in SIDES:
        comp = f"{side}_hand"
        pts, conf = seq.points(comp)[..., :2], seq.confidence[comp]
        size = sizes[side]
        thumb = HAND_INDEX["THUMB_TIP"]
        gaps, is_tip = [], []
        for finger in LONG_FINGERS:
            for k in (1, 2, 3):
                prefix = "PINKY" if finger == "pinky" else f"{finger.upper()}_FINGER"
                other = HAND_INDEX[f"{prefix}_{names[k]}"]
                gap = np.linalg.norm(pts[:, thumb] - pts[:, other], axis=-1)
                seen = (conf[:, thumb] > 0) & (conf[:, other] > 0)
                gaps.append(np.where(seen, gap, np.inf))
                is_tip.append(k == 1)
        gaps, is_tip = np.stack(gaps, 1), np.array(is_tip)  # (F, 12), (12,)
        joints = np.where(is_tip, np.inf, gaps)
        nearest = (joints == joints.min(axis=1, keepdims=True)) & ~is_tip
        nearest &= np.cumsum(nearest, axis=1) == 1  # ties: the first only
        reach = CONTACT_2D * size if np.isfinite(size) else -np.inf
        out.append((is_tip | nearest) & (gaps < reach))
    return np.concatenate(out, 1)


def hand_quality(seq: KeypointSequence, projected: np.ndarray, skeleton: FitSkeleton,
                 sizes: Mapping[str, float], dims: int = 2):
    """Reprojection error of the hand keypoints, in hand sizes.

    ``projected``: (F, P, dims) model points mapped into the keypoint frame. Each seen
    hand point's error is its x-y (or x-y-z) distance to the keypoint divided by the
    clip's hand size (``hand_sizes``). Returns ``(per_frame (F,) float32 mean over the
    frame's seen hand points, NaN when none, quality dict, errors (F, 2, 21))`` with
    ``hand_error_median`` and ``hand_error_p95`` over all seen hand points of the clip
    (NaN when no hand is seen) and ``hand_points``.
    """
    errors = np.full((seq.num_frames, 2, 21), np.nan)
    for h, side in enumerate(SIDES):
        size = sizes[side]
        if not np.isfinite(size) or size <= 0:
            continue
        comp = f"{side}_hand"
        kp = seq.points(comp)[..., :dims]
        seen = seq.confidence[comp] > 0
        model = projected[:, model_hand_points(skeleton, side)]
        err = np.linalg.norm(model - kp, axis=-1) / size
        errors[:, h] = np.where(seen, err, np.nan)
    flat = errors[np.isfinite(errors)]
    seen_count = np.isfinite(errors).sum(axis=(1, 2))
    total = np.where(np.isfinite(errors), errors, 0.0).sum(axis=(1, 2))
    per_frame = np.where(seen_count > 0, total / np.maximum(seen_count, 1), np.nan)
    quality = {
        "hand_error_median": float(np.median(flat)) if flat.size else float("nan"),
        "hand_error_p95": float(np.percentile(flat, 95)) if flat.size else float("nan"),
        "hand_points": float(flat.size),
    }
    return per_frame.astype(np.float32), quality, errors.astype(np.float32)
