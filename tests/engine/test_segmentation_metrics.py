"""Boundary precision/recall/F1 with a frame tolerance, and frame IoU."""
import numpy as np
import pytest

from engine.metrics.segmentation import (
    DEFAULT_TOLERANCE, BoundaryCounts, boundary_counts, boundary_f1, frame_iou, spans_to_mask,
)

SPANS = [(5, 20), (30, 44), (50, 71)]


def test_perfect_spans_score_one():
    scores = boundary_f1(SPANS, SPANS)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 1.0
    assert scores["matched"] == scores["predicted"] == scores["reference"] == 6
    assert frame_iou(SPANS, SPANS, 80) == 1.0


def test_tolerance_is_inclusive_and_shifts_beyond_it_score_zero():
    assert DEFAULT_TOLERANCE == 2
    within = [(s + 2, e - 2) for s, e in SPANS]
    assert boundary_f1(within, SPANS)["f1"] == 1.0
    beyond = [(s + 3, e + 3) for s, e in SPANS]
    assert boundary_f1(beyond, SPANS)["f1"] == 0.0
    assert boundary_f1(beyond, SPANS, tolerance=3)["f1"] == 1.0
    # A shifted span still overlaps most of the reference: IoU rewards that, F1 does not.
    iou = frame_iou(beyond, SPANS, 80)
    assert 0.5 < iou < 1.0
    expected = sum(e - s - 3 for s, e in SPANS) / sum(e - s + 3 for s, e in SPANS)
    assert iou == pytest.approx(expected)


def test_each_reference_boundary_matches_once_and_onsets_only_match_onsets():
    # Two predicted spans start near the one true onset: one hit, one false alarm.
    counts = boundary_counts([(10, 12), (11, 30)], [(10, 30)])
    assert counts.matched == 2 and counts.predicted == 4 and counts.reference == 2
    assert counts.precision == 0.5 and counts.recall == 1.0
    # An offset at 10 lies on the true onset 10 but is not an onset.
    assert boundary_counts([(4, 10)], [(10, 16)]).matched == 0


def test_optimal_matching_beats_greedy():
    # Greedy nearest-first would pair predicted 11 with true 12 and leave 9 unmatched
    # (|9 - 12| > 2); the optimal pairing is 9-10 and 11-12 (onsets here).
    counts = boundary_counts([(9, 40), (11, 50)], [(10, 40), (12, 50)], tolerance=2)
    assert counts.matched == 4


def test_empty_cases_and_micro_average():
    assert boundary_f1([], [])["f1"] == 1.0
    assert boundary_f1([], SPANS)["f1"] == 0.0
    assert boundary_f1(SPANS, [])["precision"] == 0.0
    assert frame_iou([], [], 10) == 1.0
    total = boundary_counts(SPANS, SPANS) + boundary_counts([(0, 5)], [(40, 50)])
    assert total == BoundaryCounts(matched=6, predicted=8, reference=8)
    assert total.f1 == pytest.approx(0.75)


def test_bad_spans_are_refused_with_the_argument_named():
    with pytest.raises(ValueError, match=r"predicted\[1\].*start < stop"):
        boundary_f1([(0, 4), (9, 9)], SPANS)
    with pytest.raises(ValueError, match=r"reference\[0\].*integer"):
        boundary_f1(SPANS, [(0.5, 4)])
    with pytest.raises(ValueError, match=r"reference\[2\].*past the sequence's 60 frames"):
        frame_iou(SPANS[:2], SPANS, 60)
    with pytest.raises(ValueError, match="tolerance"):
        boundary_f1(SPANS, SPANS, tolerance=-1)


def test_mask():
    mask = spans_to_mask([(1, 3), (5, 6)], 7)
    assert mask.tolist() == [False, True, True, False, False, True, False]
    assert np.array_equal(spans_to_mask([], 3), np.zeros(3, bool))
