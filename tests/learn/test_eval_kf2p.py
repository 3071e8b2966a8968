"""The KF2P evaluation's paired comparison (``engine.generate.eval_kf2p``)."""
import numpy as np
import pytest


def test_the_paired_comparison_judges_methods_on_the_same_clips():
    """Clip difficulty spreads both methods' errors far more than they differ: the
    learned backend below is 0.1 mm better on every clip but one, which the pooled
    medians hide and the paired comparison shows, with an interval below zero."""
    from engine.generate.eval_kf2p import paired_comparison

    difficulty = np.sort(np.random.default_rng(0).lognormal(2.5, 0.6, size=61))  # mm
    baseline = difficulty.copy()
    learned = difficulty - 0.1
    learned[27:30] += 5.0  # three clips just below the median made much worse
    assert np.median(learned) > np.median(baseline)
    better = paired_comparison(learned, baseline)
    assert better["wins"] == pytest.approx(58 / 61)
    assert better["median_difference"] == pytest.approx(-0.1)
    assert better["ci95"][1] < 0
    worse = paired_comparison(baseline, learned)
    assert worse["wins"] == pytest.approx(3 / 61) and worse["ci95"][0] > 0
    tie = paired_comparison(baseline, baseline)
    assert tie == {"wins": 0.0, "median_difference": 0.0, "ci95": [0.0, 0.0]}
