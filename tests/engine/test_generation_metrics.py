"""Acc / FID / Diversity / Multimodality on synthetic features with known answers."""
import numpy as np
import pytest

from engine.metrics.generation import accuracy, diversity, fid, frechet_distance, multimodality


@pytest.fixture
def cloud():
    return np.random.default_rng(0).normal(size=(400, 8))


def test_fid_of_a_set_against_itself_is_zero_and_a_shift_costs_its_squared_length(cloud):
    assert fid(cloud, cloud) == pytest.approx(0.0, abs=1e-6)
    shift = np.full(8, 0.5)
    # Same covariance, mean moved by `shift`: FID is exactly |shift|^2 = 8 * 0.25.
    assert fid(cloud, cloud + shift) == pytest.approx(2.0, rel=1e-6)
    assert fid(cloud, cloud + 2 * shift) > fid(cloud, cloud + shift)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.zeros(3), np.array([1.0, 0.0, 2.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 5.0 + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected)


def test_fid_survives_fewer_samples_than_dimensions():
    rng = np.random.default_rng(1)
    small = rng.normal(size=(5, 16))  # singular covariances
    value = fid(small, small + 1.0)
    assert np.isfinite(value) and value == pytest.approx(16.0, rel=1e-3)


def test_diversity_is_zero_for_identical_samples_and_the_distance_for_two_points():
    assert diversity(np.ones((50, 4))) == 0.0
    two = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert diversity(two) == pytest.approx(5.0)  # pairs are always two different samples
    rng = np.random.default_rng(2)
    narrow, wide = rng.normal(size=(300, 6)), 3 * rng.normal(size=(300, 6))
    assert diversity(wide) > 2.5 * diversity(narrow)
    assert diversity(narrow, seed=3) == diversity(narrow, seed=3)


def test_multimodality_measures_spread_within_each_label_only():
    # Two labels far apart, each a pair of points 1 apart: MM = 1, whatever the gap.
    features = np.array([[0.0, 0.0], [1.0, 0.0], [100.0, 0.0], [100.0, 1.0]])
    labels = ["a", "a", "b", "b"]
    assert multimodality(features, labels) == pytest.approx(1.0)
    assert diversity(features) > 10
    # A label with one sample has no pair and is left out; identical samples give 0.
    assert multimodality(np.array([[0.0], [0.0], [5.0]]), [0, 0, 1]) == 0.0
    with pytest.raises(ValueError, match="no label has two"):
        multimodality(np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match="expected 3 labels"):
        multimodality(np.eye(3), [0, 1])


def test_accuracy_and_bad_inputs():
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    with pytest.raises(ValueError, match="equal"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="feature sizes differ"):
        fid(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        diversity(np.array([[np.nan, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="at least 2"):
        fid(np.zeros((1, 3)), np.zeros((4, 3)))
