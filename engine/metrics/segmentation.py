"""How well sign spans were found: boundary precision / recall / F1 and frame IoU.

A span is ``(start, stop)``: frames ``[start, stop)`` of one sign. Its two boundaries are
its onset ``start`` and its offset ``stop`` (exclusive, i.e. the first frame after the
sign). A predicted onset counts as found when a reference onset lies within
``tolerance`` frames of it, and likewise for offsets; each reference boundary can be
matched once (an optimal one-to-one matching, so two predictions near one true boundary
give one hit and one false alarm). Onsets only match onsets and offsets only offsets.

The default tolerance is ``DEFAULT_TOLERANCE`` = 2 frames, i.e. +-80 ms at the models'
25 fps (``engine.learn.dataset.MODEL_FPS``): about the accuracy with which a human
annotator places a cut in sign video.

Frame IoU compares the sets of frames that lie inside any span (signing vs not), so it
rewards coverage even where boundaries are a few frames off.

Scores over many sequences are micro-averaged: add the ``BoundaryCounts`` of each
sequence and take the ratios of the sums (a long sequence weighs more than a short one).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

#: Boundary tolerance in frames (+-80 ms at 25 fps).
DEFAULT_TOLERANCE = 2

Span = tuple[int, int]


def _check_spans(spans: Sequence[Span], name: str, num_frames: int | None = None) -> np.ndarray:
    """(N, 2) int64 array of validated spans; ValueError naming the argument and span."""
    out = np.zeros((len(spans), 2), np.int64)
    for index, span in enumerate(spans):
        try:
            start, stop = span
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{index}]: expected a (start, stop) pair, got {span!r}") from None
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (start, stop)):
            raise ValueError(f"{name}[{index}]: expected integer frames, got {span!r}")
        if not 0 <= start < stop:
            raise ValueError(f"{name}[{index}]: expected 0 <= start < stop, got {span!r}")
        if num_frames is not None and stop > num_frames:
            raise ValueError(f"{name}[{index}]: stop {stop} is past the sequence's {num_frames} frames")
        out[index] = (start, stop)
    return out


def _matches(predicted: np.ndarray, reference: np.ndarray, tolerance: int) -> int:
    """Largest number of one-to-one pairs with |predicted - reference| <= tolerance."""
    if len(predicted) == 0 or len(reference) == 0:
        return 0
    distance = np.abs(predicted[:, None] - reference[None, :]).astype(np.float64)
    feasible = distance <= tolerance
    # Feasible pairs cost < 1 (closer is cheaper, to pick the nearest among ties); an
    # infeasible pair costs more than all feasible pairs together, so the assignment
    # first maximises the number of feasible pairs.
    big = float(len(predicted) + len(reference) + 1)
    cost = np.where(feasible, distance / (tolerance + 1.0), big)
    rows, cols = linear_sum_assignment(cost)
    return int(feasible[rows, cols].sum())


@dataclass(frozen=True)
class BoundaryCounts:
    """Matched, predicted and reference boundary counts; add them across sequences."""

    matched: int = 0
    predicted: int = 0
    reference: int = 0

    def __add__(self, other: BoundaryCounts) -> BoundaryCounts:
        return BoundaryCounts(self.matched + other.matched, self.predicted + other.predicted,
                              self.reference + other.reference)

    @property
    def precision(self) -> float:
        """Share of predicted boundaries that hit a reference one (1.0 when none predicted
        and none expected, 0.0 when none predicted but some expected)."""
        if self.predicted == 0:
            return 1.0 if self.reference == 0 else 0.0
        return self.matched / self.predicted

    @property
    def recall(self) -> float:
        if self.reference == 0:
            return 1.0 if self.predicted == 0 else 0.0
        return self.matched / self.reference

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "matched": self.matched, "predicted": self.predicted, "reference": self.reference}


def boundary_counts(predicted: Sequence[Span], reference: Sequence[Span],
                    tolerance: int = DEFAULT_TOLERANCE) -> BoundaryCounts:
    """Onsets and offsets of ``predicted`` matched to those of ``reference`` within
    ``tolerance`` frames (see the module docstring)."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ValueError(f"tolerance: expected a whole number of frames >= 0, got {tolerance!r}")
    pred = _check_spans(predicted, "predicted")
    ref = _check_spans(reference, "reference")
    matched = _matches(pred[:, 0], ref[:, 0], tolerance) + _matches(pred[:, 1], ref[:, 1], tolerance)
    return BoundaryCounts(matched=matched, predicted=2 * len(pred), reference=2 * len(ref))


def boundary_f1(predicted: Sequence[Span], reference: Sequence[Span],
                tolerance: int = DEFAULT_TOLERANCE) -> dict[str, float]:
    """{"precision", "recall", "f1", "matched", "predicted", "reference"} for one sequence."""
    return boundary_counts(predicted, reference, tolerance).as_dict()


def spans_to_mask(spans: Sequence[Span], num_frames: int, name: str = "spans") -> np.ndarray:
    """(num_frames,) bool: True on frames inside any span."""
    mask = np.zeros(num_frames, bool)
    for start, stop in _check_spans(spans, name, num_frames):
        mask[start:stop] = True
    return mask


def frame_iou(predicted: Sequence[Span], reference: Sequence[Span], num_frames: int) -> float:
    """Intersection over union of the in-sign frames (1.0 when both are empty)."""
    pred = spans_to_mask(predicted, num_frames, "predicted")
    ref = spans_to_mask(reference, num_frames, "reference")
    union = int((pred | ref).sum())
    return 1.0 if union == 0 else float((pred & ref).sum()) / union
