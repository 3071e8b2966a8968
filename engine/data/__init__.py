"""Real sign data: keypoint sequences read from files (``.pose``) and the packaged
fingerspelling lexicon of ``spoken-to-signed``.

``engine.data`` may import ``engine.motion`` and ``engine.body``; nothing Qt or VTK.
"""
from engine.data.keypoints import (
    BODY_POINT_NAMES, COMPONENT_SIZES, HAND_POINT_NAMES, KeypointError, KeypointMetadata,
    KeypointSequence,
)

__all__ = [
    "BODY_POINT_NAMES", "COMPONENT_SIZES", "HAND_POINT_NAMES", "KeypointError",
    "KeypointMetadata", "KeypointSequence",
]
