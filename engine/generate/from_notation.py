"""Notation as a way to make signs: a HamNoSys string -> a Project, and a Project's
signs -> SiGML. The one home of these use cases: the CLI (``sign``, ``export
--sigml``) and the studio call these functions."""
from __future__ import annotations

from engine.motion.project import Keyframe, Project, Segment, SegmentKind
from engine.notation.hamnosys import parse_sign
from engine.notation.sigml import NotatedSign
from engine.notation.symbols import SYMBOLS, from_names
from engine.notation.synthesis import NotationTiming, synthesise


def hamnosys_text(written: str) -> str:
    """HamNoSys characters as typed: the symbols themselves, or their standard names
    separated by spaces (``"fist extfingeru palmd chest"``) for a keyboard without a
    HamNoSys layout."""
    written = written.strip()
    if written and all(c in SYMBOLS for c in written):
        return written
    if written and all(c.isascii() for c in written):
        return from_names(written)
    return written  # mixed or foreign characters: the parser names the first bad one


def project_from_notation(written: str, *, gloss: str = "", language: str = "sgg",
                          body=None, timing: NotationTiming = NotationTiming()) -> Project:
    """One sign from HamNoSys (symbols or names) as a Project: its motion, a keyframe at
    every posture and one segment carrying the notation. Raises ``NotationError``
    (position, symbol, what was expected) or ``UnsupportedNotation`` (the feature)."""
    text = hamnosys_text(written)
    sign = synthesise(parse_sign(text), body, timing)
    motion = sign.motion
    keyframes = tuple(Keyframe.from_motion(motion, frame) for frame in sign.key_frames)
    segment = Segment(gloss or "SIGN", language, 0, motion.num_frames, 0, SegmentKind.NOTATION,
                      text)
    return Project(motion=motion, keyframes=keyframes, segments=(segment,),
                   title=gloss or "sign from notation")


def sigml_signs(project: Project) -> tuple[list[NotatedSign], list[str]]:
    """(the project's signs that carry notation, as SiGML signs; the glosses of those
    that do not, such as fingerspelled letters from recordings)."""
    signs, missing = [], []
    for segment in project.segments:
        if segment.notation:
            signs.append(NotatedSign(segment.gloss, segment.notation))
        else:
            missing.append(segment.gloss)
    return signs, missing
