"""The HamNoSys 4 symbol set: each character, its standard name and what kind of symbol
it is.

HamNoSys 4 (Hanke 2004, University of Hamburg) assigns its symbols to the Unicode
private-use area U+E000..U+E0F1, plus eight ASCII characters for punctuation and
alternatives. Names are the standard ones without the ``ham`` prefix (``fist`` for
``hamfist``). This table is written from the standard's code chart; every symbol the
DSGS data in the ``signwriting`` package uses is here (tests check it).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(str, enum.Enum):
    """What a symbol is, for the parser (and for readable errors)."""

    HANDSHAPE = "handshape"                # the 12 base forms
    THUMB = "thumb modifier"
    BEND = "finger bending"
    EXTENDED_FINGER = "extended-finger direction"
    PALM = "palm orientation"
    BODY_SITE = "body location"
    LATERALITY = "laterality"
    COREFERENCE = "coreference"
    NEUTRAL_SPACE = "neutral space"
    ARM_SITE = "arm location"
    HAND_SITE = "hand location"
    FINGER = "finger"
    FINGER_PART = "finger part"
    WRIST_SITE = "wrist location"
    STRAIGHT_MOVE = "straight movement"
    CIRCLE = "circular movement"
    LOCAL_MOVE = "local movement"
    REPLACE = "replacement"
    CROSS_MOVE = "crossing movement"
    NO_MOTION = "no motion"
    CLOCK = "clock position"
    ARC = "arc"
    WAVE = "wavy or zigzag path"
    ELLIPSE = "ellipse"
    SIZE_CHANGE = "size change"
    SIZE = "size"
    MANNER = "manner"
    CONTACT = "contact"
    REPETITION = "repetition"
    ALTERNATING = "alternation"
    OPEN = "opening bracket"
    CLOSE = "closing bracket"
    BETWEEN = "between"
    PLUS = "plus"
    SYMMETRY = "symmetry"
    NONDOMINANT = "non-dominant hand"
    NONIPSI = "non-ipsilateral"
    ETC = "etc."
    ORIRELATIVE = "relative orientation"
    MIME = "mime"
    ALTERNATIVE = "alternative separator"
    PUNCTUATION = "punctuation"


@dataclass(frozen=True)
class Symbol:
    char: str
    name: str
    kind: Kind

    def __str__(self) -> str:
        return f"{self.name} (U+{ord(self.char):04X})"


def _run(start: int, kind: Kind, names: str) -> list[tuple[int, str, Kind]]:
    return [(start + offset, name, kind) for offset, name in enumerate(names.split())]


_TABLE: list[tuple[int, str, Kind]] = [
    (0x20, "space", Kind.PUNCTUATION), (0x21, "exclaim", Kind.PUNCTUATION),
    (0x2C, "comma", Kind.PUNCTUATION), (0x2E, "fullstop", Kind.PUNCTUATION),
    (0x3F, "query", Kind.PUNCTUATION),
    (0x7B, "altbegin", Kind.OPEN), (0x7C, "metaalt", Kind.ALTERNATIVE),
    (0x7D, "altend", Kind.CLOSE),
    *_run(0xE000, Kind.HANDSHAPE, "fist flathand finger2 finger23 finger23spread finger2345 "
                                  "pinch12 pinchall pinch12open cee12 ceeall ceeopen"),
    *_run(0xE00C, Kind.THUMB, "thumboutmod thumbacrossmod thumbopenmod"),
    *_run(0xE010, Kind.BEND, "fingerstraightmod fingerbendmod fingerhookmod doublebent "
                             "doublehooked"),
    *_run(0xE020, Kind.EXTENDED_FINGER, "extfingeru extfingerur extfingerr extfingerdr "
                                        "extfingerd extfingerdl extfingerl extfingerul "
                                        "extfingerol extfingero extfingeror extfingeril "
                                        "extfingeri extfingerir extfingerui extfingerdi "
                                        "extfingerdo extfingeruo"),
    *_run(0xE038, Kind.PALM, "palmu palmur palmr palmdr palmd palmdl palml palmul"),
    *_run(0xE040, Kind.BODY_SITE, "head headtop forehead eyebrows eyes nose nostrils ear "
                                  "earlobe cheek lips tongue teeth chin underchin neck "
                                  "shouldertop shoulders chest stomach belowstomach"),
    *_run(0xE058, Kind.LATERALITY, "lrbeside lrat"),
    *_run(0xE05A, Kind.COREFERENCE, "coreftag corefref"),
    (0xE05F, "neutralspace", Kind.NEUTRAL_SPACE),
    *_run(0xE060, Kind.ARM_SITE, "upperarm elbow elbowinside lowerarm wristback wristpulse"),
    *_run(0xE066, Kind.HAND_SITE, "thumbball palm handback thumbside pinkyside"),
    *_run(0xE070, Kind.FINGER, "thumb indexfinger middlefinger ringfinger pinky"),
    *_run(0xE075, Kind.FINGER_PART, "fingertip fingernail fingerpad fingermidjoint fingerbase "
                                    "fingerside"),
    *_run(0xE07C, Kind.WRIST_SITE, "wristtopulse wristtoback wristtothumb wristtopinky"),
    *_run(0xE080, Kind.STRAIGHT_MOVE, "moveu moveur mover movedr moved movedl movel moveul "
                                      "moveol moveo moveor moveil movei moveir moveui movedi "
                                      "movedo moveuo"),
    *_run(0xE092, Kind.CIRCLE, "circleo circlei circled circleu circlel circler circleul "
                               "circledr circleur circledl circleol circleir circleor "
                               "circleil circleui circledo circleuo circledi"),
    *_run(0xE0A4, Kind.LOCAL_MOVE, "fingerplay nodding swinging twisting stircw stirccw"),
    (0xE0AA, "replace", Kind.REPLACE),
    (0xE0AD, "movecross", Kind.CROSS_MOVE), (0xE0AE, "moveX", Kind.CROSS_MOVE),
    (0xE0AF, "nomotion", Kind.NO_MOTION),
    *_run(0xE0B0, Kind.CLOCK, "clocku clockul clockl clockdl clockd clockdr clockr clockur "
                              "clockfull"),
    *_run(0xE0B9, Kind.ARC, "arcl arcu arcr arcd"),
    *_run(0xE0BD, Kind.WAVE, "wavy zigzag"),
    *_run(0xE0C0, Kind.ELLIPSE, "ellipseh ellipseur ellipsev ellipseul"),
    *_run(0xE0C4, Kind.SIZE_CHANGE, "increasing decreasing"),
    *_run(0xE0C6, Kind.SIZE, "smallmod largemod"),
    *_run(0xE0C8, Kind.MANNER, "fast slow tense rest halt"),
    *_run(0xE0D0, Kind.CONTACT, "close touch interlock cross armextended behind brushing"),
    *_run(0xE0D8, Kind.REPETITION, "repeatfromstart repeatfromstartseveral repeatcontinue "
                                   "repeatcontinueseveral repeatreverse"),
    (0xE0DD, "alternatingmotion", Kind.ALTERNATING),
    (0xE0E0, "seqbegin", Kind.OPEN), (0xE0E1, "seqend", Kind.CLOSE),
    (0xE0E2, "parbegin", Kind.OPEN), (0xE0E3, "parend", Kind.CLOSE),
    (0xE0E4, "fusionbegin", Kind.OPEN), (0xE0E5, "fusionend", Kind.CLOSE),
    (0xE0E6, "between", Kind.BETWEEN), (0xE0E7, "plus", Kind.PLUS),
    *_run(0xE0E8, Kind.SYMMETRY, "symmpar symmlr"),
    (0xE0EA, "nondominant", Kind.NONDOMINANT), (0xE0EB, "nonipsi", Kind.NONIPSI),
    (0xE0EC, "etc", Kind.ETC), (0xE0ED, "orirelative", Kind.ORIRELATIVE),
    (0xE0F0, "mime", Kind.MIME),
]

#: Every HamNoSys 4 character -> its Symbol.
SYMBOLS: dict[str, Symbol] = {chr(code): Symbol(chr(code), name, kind)
                              for code, name, kind in _TABLE}
#: Standard name (without "ham") -> character.
BY_NAME: dict[str, str] = {symbol.name: char for char, symbol in SYMBOLS.items()}
#: Brackets: opening character -> (closing character, group name).
BRACKETS: dict[str, tuple[str, str]] = {
    BY_NAME["seqbegin"]: (BY_NAME["seqend"], "sequence"),
    BY_NAME["parbegin"]: (BY_NAME["parend"], "parallel"),
    BY_NAME["fusionbegin"]: (BY_NAME["fusionend"], "fusion"),
    BY_NAME["altbegin"]: (BY_NAME["altend"], "alternatives"),
}


def from_names(names: str) -> str:
    """A HamNoSys string from space-separated standard names (``"fist extfingeru palmd"``),
    for tests and for people writing notation on a keyboard."""
    try:
        return "".join(BY_NAME[name.removeprefix("ham")] for name in names.split())
    except KeyError as error:
        import difflib

        wrong = error.args[0]
        close = difflib.get_close_matches(wrong, BY_NAME, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"not a HamNoSys 4 symbol name: {wrong!r}{hint}") from None


def to_names(text: str) -> str:
    """The standard names of a HamNoSys string's symbols, space-separated (unknown
    characters as ``U+XXXX``)."""
    return " ".join(SYMBOLS[c].name if c in SYMBOLS else f"U+{ord(c):04X}" for c in text)
