"""Generation quality on recognizer features: Acc, FID, Diversity, Multimodality.

The protocol of SignAvatar (Table I), which follows ACTOR / MDM: a recognizer
trained apart from the generator embeds every motion (real or generated) into a
feature vector ``m`` (its penultimate layer); then

- **Acc**: the recognizer's top-1 accuracy on the generated motions, against the label
  each was generated for (higher is better; real data gives the reference).
- **FID**: the Fréchet distance between Gaussians fitted to the real and generated
  feature sets, ``|mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))`` (lower is better).
- **Diversity**: ``1/S_d sum_i |m_i - m'_i|`` over ``S_d`` random pairs of motions drawn
  from the whole set, whatever their label (closer to real is better).
- **Multimodality**: ``1/(C S_t) sum_c sum_t |m_{c,t} - m'_{c,t}|`` over ``S_t`` random
  pairs drawn within each class ``c`` (closer to real is better).

SignAvatar writes the formulas but not ``S_d`` / ``S_t``; its protocol (ACTOR, MDM's
HumanAct12/UESTC evaluators) uses ``S_d = 200`` and ``S_t = 20``, the defaults here.
One deliberate difference from ACTOR's code: a pair is always two DIFFERENT motions
(ACTOR may draw the same index twice, adding zero distances that pull both figures
down by an amount that depends on the set size).

All functions take plain arrays, so they are testable on synthetic features, and a seed,
so a figure is reproducible.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.linalg

#: SignAvatar / ACTOR protocol: random pairs for Diversity, and per class for Multimodality.
DIVERSITY_PAIRS = 200
MULTIMODALITY_PAIRS = 20


def _features(features, who: str) -> np.ndarray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{who}: expected a non-empty (N, D) feature array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{who}: features contain NaN or infinity")
    return array


def accuracy(predicted: Sequence[int], target: Sequence[int]) -> float:
    """Share of ``predicted[i] == target[i]`` (both (N,) class indices), in [0, 1]."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.shape != target.shape or predicted.ndim != 1 or len(predicted) == 0:
        raise ValueError(f"accuracy: expected two equal non-empty (N,) arrays, got "
                         f"{predicted.shape} and {target.shape}")
    return float(np.mean(predicted == target))


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) (unbiased, N - 1) of (N, D) features, N >= 2."""
    features = _features(features, "gaussian_statistics")
    if len(features) < 2:
        raise ValueError("gaussian_statistics: need at least 2 samples for a covariance")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], -1)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (squared feature units).

    The matrix square root is ``scipy.linalg.sqrtm``. With fewer samples than feature
    dimensions the covariances are singular and sqrtm can fail or turn complex; as in
    the reference FID code, a tiny ridge is then added to both, and the negligible
    imaginary part that round-off leaves is dropped.
    """
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # "Matrix is singular": expected with few samples, and handled just below.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            ridge = np.eye(len(sigma1)) * 1e-6
            covmean = scipy.linalg.sqrtm((sigma1 + ridge) @ (sigma2 + ridge))
    covmean = np.real(covmean)
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)  # round-off can leave -1e-12 for identical sets


def fid(real_features, generated_features) -> float:
    """FID between (N, D) real and (M, D) generated recognizer features (N, M >= 2)."""
    real = _features(real_features, "fid real_features")
    generated = _features(generated_features, "fid generated_features")
    if real.shape[1] != generated.shape[1]:
        raise ValueError(f"fid: feature sizes differ ({real.shape[1]} vs {generated.shape[1]})")
    return frechet_distance(*gaussian_statistics(real), *gaussian_statistics(generated))


def _distinct_pairs(rng: np.random.Generator, count: int, num_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """``num_pairs`` random index pairs (i, j), i != j, from range(count), count >= 2."""
    first = rng.integers(0, count, num_pairs)
    # An offset in 1..count-1 makes the second index uniform over the others.
    second = (first + rng.integers(1, count, num_pairs)) % count
    return first, second


def diversity(features, num_pairs: int = DIVERSITY_PAIRS, seed: int = 0) -> float:
    """Mean L2 distance over ``num_pairs`` random pairs of distinct rows of (N, D) features."""
    features = _features(features, "diversity")
    if len(features) < 2:
        raise ValueError("diversity: need at least 2 samples")
    first, second = _distinct_pairs(np.random.default_rng(seed), len(features), num_pairs)
    return float(np.linalg.norm(features[first] - features[second], axis=1).mean())


def multimodality(features, labels: Sequence, num_pairs: int = MULTIMODALITY_PAIRS,
                  seed: int = 0) -> float:
    """Mean L2 distance over ``num_pairs`` random pairs of distinct same-label rows, per
    label, averaged over the labels (N,) that have at least 2 samples.

    Raises ValueError when no label has two samples (nothing to measure).
    """
    features = _features(features, "multimodality")
    labels = np.asarray(labels)
    if labels.shape != (len(features),):
        raise ValueError(f"multimodality: expected {len(features)} labels, got shape {labels.shape}")
    rng = np.random.default_rng(seed)
    per_class = []
    for label in sorted(set(labels.tolist()), key=str):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            continue
        first, second = _distinct_pairs(rng, len(members), num_pairs)
        per_class.append(np.linalg.norm(features[members[first]] - features[members[second]],
                                        axis=1).mean())
    if not per_class:
        raise ValueError("multimodality: no label has two or more samples")
    return float(np.mean(per_class))
