"""Non-manual markers and mouthing: the face's edit structure, saved with a project.

A ``FaceMarker`` is one non-manual feature (brows raised, a head shake, puffed cheeks...)
over frames ``[start, end)``: it ramps in over ``onset`` frames, holds its apex at
``intensity`` and ramps out over ``offset`` frames. A ``Mouthing`` is the spoken word a
sign is mouthed with, with the phonemes it was turned into when it was set (stored, so a
saved project plays the same mouth on a machine without the phonemizer).

Both are layers over ``Project.motion``: the motion keeps the recorded (or neutral)
face, and ``engine.face.perform`` adds the markers and the mouthing on top, so editing
the body (KF2P, key drags) never touches them and removing a marker restores the face.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.motion.errors import MotionError


#: The longest mouthed word or phrase, and the most phonemes one can have: a mouthing is
#: a word, and a project file must not make the face layer allocate gigabytes.
MAX_MOUTHED_CHARACTERS = 80
MAX_MOUTHED_PHONEMES = 4 * MAX_MOUTHED_CHARACTERS
#: The most markers a project holds (a marker a second for almost three hours).
MAX_MARKERS = 10_000


class Track(str, enum.Enum):
    """The timeline row a marker is shown and edited on."""

    BROWS = "brows"
    EYES = "eyes"
    HEAD = "head"
    SHOULDERS = "shoulders"
    MOUTH = "mouth"


class MarkerKind(str, enum.Enum):
    BROWS_RAISE = "brows_raise"
    BROWS_FURROW = "brows_furrow"
    EYES_SQUINT = "eyes_squint"
    EYES_WIDE = "eyes_wide"
    BLINK = "blink"
    GAZE_LEFT = "gaze_left"      # the signer's left
    GAZE_RIGHT = "gaze_right"
    GAZE_UP = "gaze_up"
    GAZE_DOWN = "gaze_down"
    HEAD_NOD = "head_nod"
    HEAD_SHAKE = "head_shake"
    HEAD_TILT_LEFT = "head_tilt_left"
    HEAD_TILT_RIGHT = "head_tilt_right"
    HEAD_FORWARD = "head_forward"
    HEAD_BACK = "head_back"
    SHOULDERS_RAISE = "shoulders_raise"
    CHEEKS_PUFF = "cheeks_puff"
    LIPS_PURSE = "lips_purse"
    MOUTH_CORNERS_DOWN = "mouth_corners_down"
    TONGUE_OUT = "tongue_out"

    @property
    def track(self) -> Track:
        return MARKER_TRACK[self]

    @property
    def label(self) -> str:
        """'brows_raise' -> 'Brows raise' (menus, blocks on the timeline)."""
        return self.value.replace("_", " ").capitalize()


MARKER_TRACK: dict[MarkerKind, Track] = {
    **{k: Track.BROWS for k in (MarkerKind.BROWS_RAISE, MarkerKind.BROWS_FURROW)},
    **{k: Track.EYES for k in (MarkerKind.EYES_SQUINT, MarkerKind.EYES_WIDE, MarkerKind.BLINK,
                               MarkerKind.GAZE_LEFT, MarkerKind.GAZE_RIGHT, MarkerKind.GAZE_UP,
                               MarkerKind.GAZE_DOWN)},
    **{k: Track.HEAD for k in (MarkerKind.HEAD_NOD, MarkerKind.HEAD_SHAKE,
                               MarkerKind.HEAD_TILT_LEFT, MarkerKind.HEAD_TILT_RIGHT,
                               MarkerKind.HEAD_FORWARD, MarkerKind.HEAD_BACK)},
    MarkerKind.SHOULDERS_RAISE: Track.SHOULDERS,
    **{k: Track.MOUTH for k in (MarkerKind.CHEEKS_PUFF, MarkerKind.LIPS_PURSE,
                                MarkerKind.MOUTH_CORNERS_DOWN, MarkerKind.TONGUE_OUT)},
}
assert set(MARKER_TRACK) == set(MarkerKind)


def _frame(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MotionError(f"{owner}.{name}: expected a frame count >= 0, got {value!r}")
    return value


@dataclass(frozen=True)
class FaceMarker:
    """One non-manual feature over frames ``[start, end)`` (see the module docstring).

    ``intensity``: 0..1, the apex as a fraction of the feature's full form (1 = brows
    fully raised, a head shake of full amplitude). ``onset``/``offset``: ramp lengths in
    frames, together at most the marker's length.
    """

    kind: MarkerKind
    start: int
    end: int
    intensity: float = 1.0
    onset: int = 0
    offset: int = 0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", MarkerKind(self.kind))
        except ValueError:
            raise MotionError(f"FaceMarker.kind: expected one of "
                              f"{[k.value for k in MarkerKind]}, got {self.kind!r}") from None
        for name in ("start", "end", "onset", "offset"):
            _frame("FaceMarker", name, getattr(self, name))
        if not self.start < self.end:
            raise MotionError(f"FaceMarker.start/end: expected start < end, got "
                              f"{self.start}, {self.end}")
        if self.onset + self.offset > self.end - self.start:
            raise MotionError(f"FaceMarker.onset/offset: {self.onset} + {self.offset} frames of "
                              f"ramps do not fit in its {self.end - self.start} frames")
        intensity = self.intensity
        if isinstance(intensity, bool) or not isinstance(intensity, int | float) \
                or not 0.0 <= intensity <= 1.0:
            raise MotionError(f"FaceMarker.intensity: expected a number in 0..1, got {intensity!r}")
        object.__setattr__(self, "intensity", float(intensity))

    @property
    def track(self) -> Track:
        return self.kind.track

    def spanning(self, start: int, end: int) -> FaceMarker:
        """The same marker moved/resized to ``[start, end)``, its ramps shortened in
        proportion where they no longer fit."""
        length = end - start
        onset, offset = self.onset, self.offset
        if onset + offset > length:
            scale = length / (onset + offset)
            onset = int(onset * scale)
            offset = min(int(offset * scale), length - onset)
        return FaceMarker(self.kind, start, end, self.intensity, onset, offset)


@dataclass(frozen=True)
class Mouthing:
    """The spoken word a sign is mouthed with.

    ``voice``: the phonemizer voice the phonemes were made with ("de", "en-us").
    ``phonemes``: IPA phonemes in order, one string each ("h", "aʊ", "s").
    """

    word: str
    voice: str
    phonemes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.word, str) or not self.word.strip() \
                or len(self.word) > MAX_MOUTHED_CHARACTERS:
            raise MotionError(f"Mouthing.word: expected a word of 1 to {MAX_MOUTHED_CHARACTERS} "
                              f"characters, got {self.word[:40]!r}")
        if not isinstance(self.voice, str) or not self.voice:
            raise MotionError(f"Mouthing.voice: expected a voice such as 'de', got {self.voice!r}")
        phonemes = tuple(self.phonemes) if isinstance(self.phonemes, list | tuple) else None
        if phonemes is None or len(phonemes) > MAX_MOUTHED_PHONEMES or not all(
                isinstance(p, str) and 0 < len(p) <= 8 for p in phonemes):
            raise MotionError(f"Mouthing.phonemes: expected a list of at most "
                              f"{MAX_MOUTHED_PHONEMES} IPA phonemes, got {str(self.phonemes)[:60]}")
        object.__setattr__(self, "phonemes", phonemes)


def retimed_spans(spans: tuple, warp, num_frames: int) -> tuple:
    """Face markers or contact locks (anything with ``start``, ``end`` and
    ``spanning``) carried through a re-timing of the motion: ``warp(frame)`` gives
    where an old frame boundary lands (a sign's hold grown, a sign stretched, a sign
    spliced in), so a span over a sign stays over it and stretches with it. Spans are
    clipped to the new ``num_frames``; one squeezed to nothing is dropped."""
    out = []
    for span in spans:
        start = min(max(int(warp(span.start)), 0), num_frames)
        end = min(max(int(warp(span.end)), 0), num_frames)
        if end > start:
            out.append(span.spanning(start, end))
    return tuple(out)
