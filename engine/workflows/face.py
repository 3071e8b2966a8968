"""The face's use cases: mouth a sign with a word, apply a grammatical preset to a span,
add, change or remove a marker, switch a project's mouthing. The CLI's ``face`` command
and the studio's face actions call these; each returns a new Project (the studio lands
it as one undo step) and raises ``UsageError`` naming what was wrong."""
from __future__ import annotations

import re
from dataclasses import replace

from engine.face.phonemes import PhonemizerUnavailable, phonemize, voice_for
from engine.face.visemes import phoneme_visemes
from engine.motion.errors import MotionError, UsageError
from engine.motion.markers import FaceMarker, Mouthing
from engine.motion.project import Project, Segment


def gloss_word(gloss: str) -> str:
    """The spoken word a gloss names: 'HAUS' -> 'Haus', 'GEHEN-2' -> 'Gehen',
    'NICE^TO' -> 'Nice to' ('' when nothing of it is a word)."""
    words = [w for w in re.split(r"[^\w']+", gloss) if w and not w.isdigit()]
    return " ".join(words).lower().capitalize()


def mouthing_of(word: str, language: str) -> tuple[Mouthing, tuple[str, ...]]:
    """``word`` as the language's community mouths it, and the phoneme letters no viseme
    class knows (mouthed neutral). Raises ``PhonemizerUnavailable`` or ``UsageError``."""
    phonemes = phonemize(word, voice_for(language))
    if not phonemes:
        raise UsageError(f"mouthing: '{word}' gives no phonemes to mouth")
    unknown = tuple(dict.fromkeys(letter for p in phonemes for letter in phoneme_visemes(p)[1]))
    return Mouthing(word.strip(), voice_for(language), phonemes), unknown


def mouthing_or_note(word: str, language: str, notes: list[str]) -> Mouthing | None:
    """``mouthing_of`` for generation: a word that cannot be mouthed is signed without
    mouthing and ``notes`` says why (once per problem)."""
    try:
        mouthing, unknown = mouthing_of(word, language)
    except (PhonemizerUnavailable, UsageError) as error:
        if str(error) not in notes:
            notes.append(str(error))
        return None
    if unknown:
        notes.append(f"mouthing '{word}': no mouth shape for {', '.join(unknown)} "
                     "(shown as a neutral mouth)")
    return mouthing


def _segment(project: Project, index: int) -> Segment:
    if isinstance(index, bool) or not isinstance(index, int) \
            or not 0 <= index < len(project.segments):
        raise UsageError(f"sign: expected 1 to {len(project.segments)}, got {index + 1}")
    return project.segments[index]


def set_mouthing(project: Project, index: int, word: str | None) -> tuple[Project, tuple[str, ...]]:
    """Mouth sign ``index`` (0-based) with ``word`` (None or blank: not mouthed).
    Returns the project and the phoneme letters shown as a neutral mouth."""
    segment = _segment(project, index)
    if word is None or not word.strip():
        mouthing, unknown = None, ()
    else:
        mouthing, unknown = mouthing_of(word, segment.language)
    segments = list(project.segments)
    segments[index] = replace(segment, mouthing=mouthing)
    return project.replace(segments=tuple(segments)), unknown


def sign_span(project: Project, first: int, last: int) -> tuple[int, int]:
    """Frames ``[start, end)`` from the start of sign ``first`` to the end of ``last``
    (0-based, inclusive)."""
    a, b = _segment(project, first), _segment(project, last)
    if b.end <= a.start:
        raise UsageError(f"signs {first + 1} to {last + 1}: expected the first before the last")
    return a.start, b.end


def apply_preset(project: Project, preset_name: str, start: int, end: int) -> Project:
    """The preset's markers over frames ``[start, end)`` added to the project."""
    from engine.face.presets import find_preset

    preset = find_preset(preset_name)
    if not 0 <= start < end <= project.motion.num_frames:
        raise UsageError(f"span: expected frames within 0..{project.motion.num_frames}, "
                         f"got {start}..{end}")
    return project.replace(markers=project.markers + preset.markers(start, end,
                                                                    project.motion.fps))


#: Seconds a new marker takes to ramp in and out (a raised brow takes about this long).
MARKER_RAMP_S = 0.15


def marker_over(kind: str, start: int, end: int, intensity: float, fps: float) -> FaceMarker:
    """A marker of ``kind`` over ``[start, end)`` with the default ramps, shortened to
    fit a short span. ``UsageError`` names what does not fit."""
    ramp = max(1, round(MARKER_RAMP_S * fps))
    try:
        return FaceMarker(kind, start, max(end, start + 2 * ramp), intensity, ramp, ramp
                          ).spanning(start, end)
    except MotionError as error:
        raise UsageError(str(error)) from None


def with_marker(project: Project, marker: FaceMarker, replacing: int | None = None) -> Project:
    """``marker`` added, or put in place of marker ``replacing`` (an index into
    ``project.markers``). Raises ``UsageError`` when it does not fit the motion."""
    markers = list(project.markers)
    if replacing is not None:
        if not 0 <= replacing < len(markers):
            raise UsageError(f"marker: expected 1 to {len(markers)}, got {replacing + 1}")
        del markers[replacing]
    try:
        return project.replace(markers=tuple(markers) + (marker,))
    except MotionError as error:
        raise UsageError(str(error)) from None


def without_markers(project: Project, indices: set[int]) -> Project:
    return project.replace(markers=tuple(m for i, m in enumerate(project.markers)
                                         if i not in indices))
