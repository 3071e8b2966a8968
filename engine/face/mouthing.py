"""Mouthing over time: a word's visemes spread over the sign that carries it.

A mouthed word runs across the sign's movement, not at speaking pace: it starts a
little after the sign's first frame (the hands are still rising) and ends before its
last, each vowel twice as long as a consonant (vowels carry the syllable), and no
phoneme longer than ``MAX_PHONEME_S`` (a long sign does not stretch the word into slow
motion). Between phonemes the mouth moves linearly from one viseme to the next and is
then smoothed over ``COARTICULATION_S``: neighbouring sounds blend as they do in speech.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from engine.face.visemes import VISEMES, VOWEL_VISEMES, phoneme_visemes, viseme_vectors
from engine.motion.markers import Mouthing

LEAD_IN = 0.12        # fraction of the sign before the word starts
LEAD_OUT = 0.08       # fraction of the sign left after it ends
MAX_PHONEME_S = 0.16  # the slowest a consonant is mouthed (a vowel twice that)
RAMP_S = 0.1          # from a neutral mouth into the first viseme and back out
COARTICULATION_S = 0.025
_VECTORS = viseme_vectors()
_ROW = {name: row for row, name in enumerate(VISEMES)}


@dataclass(frozen=True)
class VisemeTiming:
    """When each viseme of a mouthing shows: ``visemes`` names, ``centres`` (frames,
    fractional, from the sign's first frame); ``unknown``: phoneme letters no viseme
    class knows (shown as a neutral mouth)."""

    visemes: tuple[str, ...]
    centres: np.ndarray
    unknown: tuple[str, ...]


def viseme_timing(mouthing: Mouthing, frames: int, fps: float) -> VisemeTiming:
    """Where the visemes of ``mouthing`` fall in a sign of ``frames`` frames."""
    names: list[str] = []
    units: list[float] = []
    unknown: list[str] = []
    for phoneme in mouthing.phonemes:
        visemes, strange = phoneme_visemes(phoneme)
        unknown += strange
        if not visemes and strange:
            visemes = ["sil"]
        for viseme in visemes:
            names.append(viseme)
            units.append((2.0 if viseme in VOWEL_VISEMES else 1.0) / len(visemes))
    if not names:
        return VisemeTiming((), np.zeros(0), tuple(unknown))
    start = frames * LEAD_IN
    span = max(frames * (1.0 - LEAD_IN - LEAD_OUT), 1.0)
    # At least a frame a unit where the sign has the frames (a clip at a few fps would
    # otherwise mouth its word between two frames).
    unit = min(span / sum(units), max(MAX_PHONEME_S * fps, 1.0))
    edges = start + unit * np.concatenate([[0.0], np.cumsum(units)])
    return VisemeTiming(tuple(names), (edges[:-1] + edges[1:]) / 2.0, tuple(unknown))


def mouthing_curves(mouthing: Mouthing, frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 52) ARKit weights and (frames,) jaw opening (radians) that mouth the word
    over a sign of ``frames`` frames; zero before and after it."""
    timing = viseme_timing(mouthing, frames, fps)
    out = np.zeros((frames, _VECTORS.shape[1]))
    if not timing.visemes:
        return out[:, :-1], out[:, -1]
    ramp = RAMP_S * fps
    centres = np.concatenate([[timing.centres[0] - ramp], timing.centres,
                              [timing.centres[-1] + ramp]])
    keys = np.concatenate([np.zeros((1, out.shape[1])),
                           _VECTORS[[_ROW[v] for v in timing.visemes]],
                           np.zeros((1, out.shape[1]))])
    positions = np.arange(frames, dtype=np.float64)
    for channel in np.flatnonzero(np.abs(keys).sum(axis=0)):
        out[:, channel] = np.interp(positions, centres, keys[:, channel], left=0.0, right=0.0)
    sigma = COARTICULATION_S * fps
    if sigma > 0.3:
        out = gaussian_filter1d(out, sigma, axis=0, mode="constant")
    return out[:, :-1], out[:, -1]
