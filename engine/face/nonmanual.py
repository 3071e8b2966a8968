"""What each non-manual marker does to the face and head, and its envelope over time.

Every effect is written as the marker's apex at intensity 1: ARKit blendshape weights to
add, and rotations (axis-angle, radians, in the joint's parent frame; SMPL-X axes: x to
the signer's left, y up, z forward) to compose onto the neck, head, eyes, jaw or collars.
A head nod and a head shake are oscillations under the envelope instead of a held
offset. The amplitudes are our choice, sized to read on the avatar at video distance
(checked on renders, docs/faces.md); a linguist scales them with ``intensity``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.motion.markers import FaceMarker, MarkerKind

# Indices into body_pose (F, 21, 3): the skeleton's joint index minus one (the pelvis).
NECK, LEFT_COLLAR, RIGHT_COLLAR, HEAD, LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12, 13, 14, 15, 16
#: How a head rotation is shared between the neck and the head joint: a real head turn
#: bends the upper neck too, and all of it at the skull reads as a broken neck.
NECK_SHARE = 0.4


@dataclass(frozen=True)
class Oscillation:
    """A periodic head movement: ``amplitude`` radians about ``axis`` at ``hertz``;
    ``one_sided`` goes 0 -> amplitude -> 0 each cycle (a nod dips and comes back up)."""

    axis: tuple[float, float, float]
    amplitude: float
    hertz: float
    one_sided: bool = False


@dataclass(frozen=True)
class Effect:
    weights: dict[str, float] = field(default_factory=dict)
    head: tuple[float, float, float] = (0.0, 0.0, 0.0)
    neck_only: tuple[float, float, float] = (0.0, 0.0, 0.0)
    eyes: tuple[float, float, float] = (0.0, 0.0, 0.0)
    jaw: float = 0.0                      # radians about +x (opens the mouth)
    collars: tuple[float, float] = (0.0, 0.0)  # left, right shoulder raise, radians
    oscillation: Oscillation | None = None


def _both(stem: str, value: float) -> dict[str, float]:
    return {f"{stem}Left": value, f"{stem}Right": value}


EFFECTS: dict[MarkerKind, Effect] = {
    MarkerKind.BROWS_RAISE: Effect({"browInnerUp": 0.9, **_both("browOuterUp", 0.9)}),
    MarkerKind.BROWS_FURROW: Effect({**_both("browDown", 0.9), **_both("noseSneer", 0.15)}),
    MarkerKind.EYES_SQUINT: Effect({**_both("eyeSquint", 0.8), **_both("cheekSquint", 0.3)}),
    MarkerKind.EYES_WIDE: Effect(_both("eyeWide", 0.9)),
    MarkerKind.BLINK: Effect(_both("eyeBlink", 1.0)),
    # Gaze: both eyes turn the same way; the ARKit "in"/"out" names are per eye.
    MarkerKind.GAZE_LEFT: Effect({"eyeLookOutLeft": 0.7, "eyeLookInRight": 0.7},
                                 eyes=(0.0, 0.35, 0.0)),
    MarkerKind.GAZE_RIGHT: Effect({"eyeLookInLeft": 0.7, "eyeLookOutRight": 0.7},
                                  eyes=(0.0, -0.35, 0.0)),
    MarkerKind.GAZE_UP: Effect(_both("eyeLookUp", 0.7), eyes=(-0.25, 0.0, 0.0)),
    MarkerKind.GAZE_DOWN: Effect(_both("eyeLookDown", 0.7), eyes=(0.3, 0.0, 0.0)),
    MarkerKind.HEAD_NOD: Effect(oscillation=Oscillation((1.0, 0.0, 0.0), 0.2, 2.0, True)),
    MarkerKind.HEAD_SHAKE: Effect(oscillation=Oscillation((0.0, 1.0, 0.0), 0.3, 2.5)),
    MarkerKind.HEAD_TILT_LEFT: Effect(head=(0.0, 0.0, -0.22)),
    MarkerKind.HEAD_TILT_RIGHT: Effect(head=(0.0, 0.0, 0.22)),
    # Forward: the neck leans the head forward and the head keeps the face level-ish.
    MarkerKind.HEAD_FORWARD: Effect(neck_only=(0.25, 0.0, 0.0), head=(-0.12, 0.0, 0.0)),
    MarkerKind.HEAD_BACK: Effect(head=(-0.22, 0.0, 0.0)),
    MarkerKind.SHOULDERS_RAISE: Effect(collars=(0.15, 0.15)),
    MarkerKind.CHEEKS_PUFF: Effect({"cheekPuff": 1.0, **_both("mouthPress", 0.3)}),
    MarkerKind.LIPS_PURSE: Effect({"mouthPucker": 0.9, "mouthFunnel": 0.2}),
    MarkerKind.MOUTH_CORNERS_DOWN: Effect({**_both("mouthFrown", 0.8), "mouthShrugLower": 0.3}),
    MarkerKind.TONGUE_OUT: Effect({"tongueOut": 1.0}, jaw=0.12),
}
assert set(EFFECTS) == set(MarkerKind)


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def envelope(marker: FaceMarker) -> np.ndarray:
    """(end - start,) the marker's strength per frame, 0..intensity: smooth ramps of
    ``onset`` and ``offset`` frames around the apex (a ramp of 0 frames is a step). The
    last frame of the onset and the first of the offset are at the full intensity, so
    a marker made only of ramps (a short blink) still reaches it."""
    frames = np.arange(marker.end - marker.start, dtype=np.float64)
    length = float(marker.end - marker.start)
    rise = smoothstep((frames + 1) / marker.onset) if marker.onset else np.ones_like(frames)
    fall = smoothstep((length - frames) / marker.offset) if marker.offset else np.ones_like(frames)
    return marker.intensity * np.minimum(rise, fall)


def head_curve(effect: Effect, strength: np.ndarray, fps: float) -> np.ndarray:
    """(N, 3) the head rotation the effect adds on each frame of ``strength`` (N,)."""
    if effect.oscillation is None:
        return strength[:, None] * np.asarray(effect.head)[None]
    wave = effect.oscillation
    phase = 2.0 * np.pi * wave.hertz * np.arange(len(strength)) / fps
    swing = 0.5 * (1.0 - np.cos(phase)) if wave.one_sided else np.sin(phase)
    return (strength * swing * wave.amplitude)[:, None] * np.asarray(wave.axis)[None]
