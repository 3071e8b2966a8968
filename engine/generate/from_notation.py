"""Notation as a way to make signs: a HamNoSys string -> a Project, and a Project's
signs -> SiGML. The one home of these use cases: the CLI (``sign``, ``export
--sigml``) and the studio call these functions."""
from __future__ import annotations

import re

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
    """One sign from HamNoSys (symbols or names) as a Project: its motion (rest -> sign
    -> rest), a keyframe at every posture and one segment, the sign's articulation,
    carrying the notation. Raises ``NotationError``
    (position, symbol, what was expected) or ``UnsupportedNotation`` (the feature)."""
    from engine.generate.assemble import clip_articulation_span

    text = hamnosys_text(written)
    sign = synthesise(parse_sign(text), body, timing)
    motion = sign.motion
    keyframes = tuple(Keyframe.from_motion(motion, frame, generated=True)
                      for frame in sign.key_frames)
    # The segment is the sign itself, as in an assembled sentence: the rise from rest
    # before it and the drop after it are outside, so a sign inserted next replaces them.
    start, stop = clip_articulation_span(motion)
    segment = Segment(gloss or "SIGN", language, start, stop, 0, SegmentKind.NOTATION, text)
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


def error_span(written: str, position: int) -> tuple[int, int]:
    """The characters of ``written`` (as typed: symbols or names) to underline for a
    ``NotationError`` at symbol ``position``: that symbol's name, or the end of the
    text when the error is that it ended early."""
    written_stripped = written.strip()
    offset = len(written) - len(written.lstrip())
    if written_stripped and all(c in SYMBOLS for c in written_stripped):
        start = offset + min(position, len(written_stripped))
        return start, start + 1
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", written)]
    if position < len(words):
        return words[position]
    end = len(written.rstrip())
    return end, end + 1


def bad_name_span(written: str) -> tuple[int, int] | None:
    """The first word of ``written`` (names) that is not a HamNoSys name, or None."""
    from engine.notation.symbols import BY_NAME

    for match in re.finditer(r"\S+", written):
        if match.group(0).removeprefix("ham") not in BY_NAME and not all(
                c in SYMBOLS for c in match.group(0)):
            return match.start(), match.end()
    return None


def resynthesised(project: Project, index: int, written: str, *, body=None,
                  timing: NotationTiming | None = None) -> Project:
    """``project`` with segment ``index`` made again from ``written`` HamNoSys (symbols
    or names): the sign and its transitions replaced, every other frame kept. Raises
    ``NotationError``, ``UnsupportedNotation`` or ``ValueError`` (an unknown name)."""
    from engine.generate.splice import replace_segment

    text = hamnosys_text(written)
    timing = timing or NotationTiming(fps=project.motion.fps)
    sign = synthesise(parse_sign(text), body, timing)
    segment = project.segments[index]
    return replace_segment(project, index, sign.motion, gloss=segment.gloss,
                           language=segment.language, kind=SegmentKind.NOTATION,
                           notation=text, sign_keys=sign.key_frames)
