"""Fitting SMPL-X joint rotations to MediaPipe-Holistic keypoints (``KeypointSequence``).

``fit_keypoints`` is the entry point. The stages (``initial_pose``, ``optimise``), the
loss terms (``losses``), the skeleton model (``skeleton``), the learned reading of
MediaPipe's hands the fingers are pulled toward (``hand_reader``) and every tuned number
(``constants``) each have their module; the model and its measurements are in
docs/fitting.md.

The fitter (and torch with it) is imported when first asked for: the skeleton's joint
ranges (``ranges``) serve the studio, which should not wait for torch to start.
"""
from engine.data.fit.constants import DEFAULT_LANDMARKS, FINGERS, LANDMARK_MODELS, FitWeights
from engine.data.fit.skeleton import FitSkeleton, load_landmark_offsets, model_hand_points

__all__ = [
    "DEFAULT_LANDMARKS", "FINGERS", "LANDMARK_MODELS", "FitResult", "FitSkeleton", "FitWeights",
    "fit_keypoints", "load_landmark_offsets", "model_hand_points",
]


def __getattr__(name: str):
    if name in ("FitResult", "fit_keypoints"):
        from engine.data.fit import fitter

        return getattr(fitter, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
