"""IPA phonemes -> visemes -> ARKit mouth weights and jaw opening.

The viseme set is the common 15-class one used by lip-sync systems (silence, PP, FF,
TH, DD, kk, CH, SS, nn, RR, aa, E, I, O, U): phonemes that look alike on the lips share
a class. Each IPA letter is classed by where and how it is articulated (bilabial,
labiodental, ... open, rounded), so one table serves every language espeak speaks; a
diphthong or affricate ("aʊ", "ts") is its letters in turn. The mouth shapes are ours,
set on the default avatar's ARKit blendshapes and checked on renders (docs/faces.md).
Jaw opening is a ``jaw_pose`` rotation (radians about +x), which opens the mouth on
SMPL-X and on the default avatar alike; ``jawOpen`` is therefore never set here.
"""
from __future__ import annotations

import unicodedata

import numpy as np

from engine.motion.face import FACE_BLENDSHAPE_INDEX, NUM_FACE_BLENDSHAPES

_CLASSES: dict[str, str] = {
    "PP": "pbmɓ",
    "FF": "fvɱʋɸβ",
    "TH": "θð",
    "DD": "tdʈɖcɟɗ",
    "kk": "kgɡqɢxɣχhɦħʕʔɰ",
    "CH": "ʃʒɕʑçʝʂʐ",
    "SS": "sz",
    "nn": "nɲŋɳɴlɫʎɭʟɬɮ",
    "RR": "rɾɹʁʀɻɽɚɝ",
    "I": "iɪjɨɯᵻ",
    "E": "eɛəɜɘɤ",
    "aa": "aɑæɐʌɶ",
    "O": "oɔɒɵøœ",
    "U": "uʊwyʏʉɥ",
}
PHONEME_VISEME: dict[str, str] = {letter: viseme for viseme, letters in _CLASSES.items()
                                  for letter in letters}
#: Marks that change a sound but not the lips' shape: length, stress, syllabicity,
#: aspiration, palatalisation, tie bars (combining marks are dropped too).
_IGNORED = set("ːˑˈˌʰʲʷˠˤ̩͜͡‿.-_ ")


def _both(stem: str, value: float) -> dict[str, float]:
    return {f"{stem}Left": value, f"{stem}Right": value}


#: viseme -> (ARKit weights, jaw opening in radians)
VISEME_SHAPES: dict[str, tuple[dict[str, float], float]] = {
    "sil": ({}, 0.0),
    "PP": ({**_both("mouthPress", 0.6), "mouthRollLower": 0.25, "mouthRollUpper": 0.2,
            "mouthClose": 0.2}, 0.0),
    "FF": ({"mouthRollLower": 0.6, **_both("mouthUpperUp", 0.35)}, 0.05),
    "TH": ({"tongueOut": 0.35}, 0.09),
    "DD": ({**_both("mouthStretch", 0.15)}, 0.08),
    "kk": ({**_both("mouthStretch", 0.1)}, 0.11),
    "CH": ({"mouthFunnel": 0.55, "mouthPucker": 0.3, **_both("mouthUpperUp", 0.2)}, 0.07),
    "SS": ({**_both("mouthStretch", 0.35), **_both("mouthSmile", 0.15)}, 0.04),
    "nn": ({**_both("mouthStretch", 0.1)}, 0.08),
    "RR": ({"mouthFunnel": 0.3, "mouthPucker": 0.2}, 0.08),
    "aa": ({**_both("mouthLowerDown", 0.35), **_both("mouthStretch", 0.1)}, 0.26),
    "E": ({**_both("mouthStretch", 0.35), **_both("mouthLowerDown", 0.2)}, 0.15),
    "I": ({**_both("mouthStretch", 0.45), **_both("mouthSmile", 0.3)}, 0.06),
    "O": ({"mouthFunnel": 0.65, "mouthPucker": 0.3}, 0.2),
    "U": ({"mouthPucker": 0.85, "mouthFunnel": 0.3}, 0.07),
}
VISEMES = tuple(VISEME_SHAPES)
VOWEL_VISEMES = frozenset({"aa", "E", "I", "O", "U"})


def viseme_vectors() -> np.ndarray:
    """(len(VISEMES), 53): each viseme's 52 ARKit weights, then its jaw opening."""
    table = np.zeros((len(VISEMES), NUM_FACE_BLENDSHAPES + 1))
    for row, name in enumerate(VISEMES):
        weights, jaw = VISEME_SHAPES[name]
        for shape, value in weights.items():
            table[row, FACE_BLENDSHAPE_INDEX[shape]] = value
        table[row, -1] = jaw
    return table


def phoneme_visemes(phoneme: str) -> tuple[list[str], list[str]]:
    """The visemes one IPA phoneme shows (a diphthong shows two), and the letters in it
    that no class knows (returned, not raised: the caller reports them)."""
    visemes, unknown = [], []
    for letter in unicodedata.normalize("NFD", phoneme):
        if letter in _IGNORED or unicodedata.combining(letter):
            continue
        if letter in PHONEME_VISEME:
            visemes.append(PHONEME_VISEME[letter])
        else:
            unknown.append(letter)
    return visemes, unknown
