"""Fitting SMPL-X joint rotations to MediaPipe-Holistic keypoints (``KeypointSequence``).

``fit_keypoints`` is the entry point. The stages (``initial_pose``, ``optimise``), the
loss terms (``losses``), the skeleton model (``skeleton``) and every tuned number
(``constants``) each have their module; the model and its measurements are in
docs/fitting.md.
"""
from engine.data.fit.constants import DEFAULT_LANDMARKS, FINGERS, LANDMARK_MODELS, FitWeights
from engine.data.fit.fitter import FitResult, fit_keypoints
from engine.data.fit.skeleton import FitSkeleton, load_landmark_offsets, model_hand_points

__all__ = [
    "DEFAULT_LANDMARKS", "FINGERS", "LANDMARK_MODELS", "FitResult", "FitSkeleton", "FitWeights",
    "fit_keypoints", "load_landmark_offsets", "model_hand_points",
]
