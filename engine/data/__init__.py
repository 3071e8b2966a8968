"""Real sign data: keypoint sequences (``.pose`` files, MediaPipe on video), fitting
them to SMPL-X (``engine.data.fit``), the packaged fingerspelling clips of
``spoken-to-signed`` and the lexicon (SQLite) built from them and from notation.

``engine.data`` may import ``engine.motion``, ``engine.body`` and ``engine.notation``;
nothing Qt or VTK.
"""
from engine.data.keypoints import (
    BODY_POINT_NAMES, COMPONENT_SIZES, HAND_POINT_NAMES, KeypointError, KeypointMetadata,
    KeypointSequence,
)

__all__ = [
    "BODY_POINT_NAMES", "COMPONENT_SIZES", "HAND_POINT_NAMES", "KeypointError",
    "KeypointMetadata", "KeypointSequence",
]
