"""Keyframes, segments and the Project that holds a motion with its edit structure."""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from engine.motion.contacts import MAX_CONTACTS, ContactLock
from engine.motion.errors import MotionError
from engine.motion.markers import MAX_MARKERS, FaceMarker, Mouthing
from engine.motion.motion import ALL_CHANNELS, Channel, Motion

#: Bumped whenever the saved layout changes; loaders refuse files from the future.
#: 2: face markers, segments' mouthing and the project's mouthing switch.
#: 3: contact locks.
PROJECT_SCHEMA_VERSION = 3


#: How the motion goes from a key to the next: "auto" (the edit's in-betweener), "hold"
#: (the key's pose until the next key, then a cut), "linear" (slerp), "spline" (the C2
#: smooth baseline), "learned" (the learned in-betweener when shipped).
INTERPOLATIONS = ("auto", "hold", "linear", "spline", "learned")


@dataclass(frozen=True, eq=False)
class Keyframe:
    """A constraint: at ``frame`` the motion must equal ``pose`` on ``channels``.

    ``pose`` is a 1-frame Motion holding the pinned values, so a keyframe keeps its pose
    when it is moved in time or pasted elsewhere. Channels outside ``channels`` are
    free: generation may change them at this frame. ``generated``: placed by a
    generator (a sign's onset, middle and end; a recording's sign boundaries), not by
    the user; the timeline draws it lighter, and editing its pose makes it the user's.
    ``interpolation``: how the motion goes from this key to the next (``INTERPOLATIONS``;
    "auto": with the in-betweener the edit uses).
    """

    frame: int
    pose: Motion
    channels: frozenset[Channel] = ALL_CHANNELS
    generated: bool = False
    interpolation: str = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.frame, bool) or not isinstance(self.frame, int) or self.frame < 0:
            raise MotionError(f"Keyframe.frame: expected a frame index >= 0, got {self.frame!r}")
        if not isinstance(self.pose, Motion) or self.pose.num_frames != 1:
            raise MotionError("Keyframe.pose: expected a 1-frame Motion")
        try:
            channels = frozenset(Channel(c) for c in self.channels)
        except ValueError as error:
            raise MotionError(
                f"Keyframe.channels: {error}; expected some of {[c.value for c in Channel]}"
            ) from None
        if not channels:
            raise MotionError("Keyframe.channels: expected at least one channel, got none")
        if self.interpolation not in INTERPOLATIONS:
            raise MotionError(f"Keyframe.interpolation: expected one of {INTERPOLATIONS}, "
                              f"got {self.interpolation!r:.40}")
        if not isinstance(self.generated, bool):
            raise MotionError(f"Keyframe.generated: expected true or false, got {self.generated!r}")
        object.__setattr__(self, "channels", channels)

    @classmethod
    def from_motion(cls, motion: Motion, frame: int,
                    channels: Iterable[Channel] = ALL_CHANNELS,
                    generated: bool = False) -> Keyframe:
        """Pin the motion's own pose at ``frame``."""
        return cls(frame=frame, pose=motion.frame(frame), channels=frozenset(channels),
                   generated=generated)

    def moved_to(self, frame: int) -> Keyframe:
        return dataclasses.replace(self, frame=frame)

    def equals(self, other: Keyframe) -> bool:
        return (self.frame == other.frame and self.channels == other.channels
                and self.generated == other.generated
                and self.interpolation == other.interpolation and self.pose.equals(other.pose))


class SegmentKind(str, enum.Enum):
    """Where a segment's motion came from (shown in the coverage report)."""

    LEXICON = "lexicon"
    FINGERSPELLED = "fingerspelled"
    TRANSITION = "transition"
    RECORDED = "recorded"
    MANUAL = "manual"
    NOTATION = "notation"   # synthesised from HamNoSys typed or imported by the user


@dataclass(frozen=True)
class Segment:
    """One sign (or letter) on the timeline: frames ``[start, end)``.

    ``hold`` frames at the end of the segment keep the final pose still (a letter stays
    readable); ``language`` is an ISO 639-3 sign-language code such as ``ase``.
    ``notation``: the HamNoSys the sign was made from ("" for a recording).
    ``mouthing``: the spoken word the sign is mouthed with (None: not mouthed).
    """

    gloss: str
    language: str
    start: int
    end: int
    hold: int = 0
    kind: SegmentKind = SegmentKind.LEXICON
    notation: str = ""
    mouthing: Mouthing | None = None

    def __post_init__(self) -> None:
        if self.mouthing is not None and not isinstance(self.mouthing, Mouthing):
            raise MotionError(f"Segment.mouthing: expected a Mouthing or None, got {self.mouthing!r}")
        for name in ("start", "end", "hold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise MotionError(f"Segment.{name}: expected an integer frame, got {value!r}")
        if not isinstance(self.gloss, str) or not self.gloss.strip():
            raise MotionError(f"Segment.gloss: expected a non-empty string, got {self.gloss!r}")
        if not isinstance(self.language, str) or not self.language:
            raise MotionError(
                f"Segment.language: expected a sign-language code like 'ase', got {self.language!r}"
            )
        if not isinstance(self.notation, str):
            raise MotionError(f"Segment.notation: expected HamNoSys text, got {self.notation!r}")
        if not 0 <= self.start < self.end:
            raise MotionError(
                f"Segment.start/end: expected 0 <= start < end, got {self.start}, {self.end}"
            )
        if not 0 <= self.hold <= self.end - self.start:
            raise MotionError(
                f"Segment.hold: expected 0..{self.end - self.start} frames, got {self.hold}"
            )
        try:
            object.__setattr__(self, "kind", SegmentKind(self.kind))
        except ValueError:
            raise MotionError(
                f"Segment.kind: expected one of {[k.value for k in SegmentKind]}, got {self.kind!r}"
            ) from None

    @property
    def num_frames(self) -> int:
        return self.end - self.start


class AvatarChoice(str, enum.Enum):
    DEFAULT = "default"  # the embedded open avatar
    SMPLX = "smplx"      # SMPL-X proper, from the user's licensed model folder


@dataclass(frozen=True)
class Origin:
    """How a project was made, so reopening it can offer to make it again: the text and
    sign language it was generated from, its frame rate and the signing tempo
    (``signing_speed`` setting, or the tempo asked for) it was signed at."""

    text: str
    language: str
    fps: float = 30.0
    signing_speed: float = 1.0

    def __post_init__(self) -> None:
        for name, kind in (("text", str), ("language", str), ("fps", (int, float)),
                           ("signing_speed", (int, float))):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise MotionError(f"Project.origin.{name}: expected "
                                  f"{'text' if kind is str else 'a number'}, got {value!r}")
        if not self.language or len(self.text) > 20_000:
            raise MotionError("Project.origin: expected a language code and at most 20,000 "
                              "characters of text")


@dataclass(frozen=True, eq=False)
class Project:
    """Everything a user saves: the motion, its keyframes and segments, the avatar, the
    face's markers and whether the signs' mouthing plays (``engine.motion.markers``),
    the channel tracks the user ``locked`` (key edits may not change them) or
    ``muted`` (shown and rendered at rest, ``engine.face.perform``), and the
    ``contacts`` that hold a hand on the body over a span (``engine.motion.contacts``).

    Keyframes are kept sorted by frame, at most one per frame; markers by (start, track).
    Invariant checked here: every keyframe, segment and marker lies inside the motion.
    """

    motion: Motion
    keyframes: tuple[Keyframe, ...] = ()
    segments: tuple[Segment, ...] = ()
    avatar: AvatarChoice = AvatarChoice.DEFAULT
    title: str = ""
    origin: Origin | None = None
    markers: tuple[FaceMarker, ...] = ()
    mouthing: bool = True
    locked: frozenset[Channel] = frozenset()
    muted: frozenset[Channel] = frozenset()
    contacts: tuple[ContactLock, ...] = ()

    def __post_init__(self) -> None:
        for name in ("locked", "muted"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise MotionError(f"Project.{name}: expected a list of channels, got {value!r:.60}")
            try:
                object.__setattr__(self, name, frozenset(Channel(c) for c in value))
            except ValueError as error:
                raise MotionError(f"Project.{name}: {error}; expected some of "
                                  f"{[c.value for c in Channel]}") from None
        if not isinstance(self.motion, Motion):
            raise MotionError(f"Project.motion: expected a Motion, got {type(self.motion).__name__}")
        keyframes = tuple(sorted(self.keyframes, key=lambda k: k.frame))
        frames = [k.frame for k in keyframes]
        if len(set(frames)) != len(frames):
            duplicate = next(f for f in frames if frames.count(f) > 1)
            raise MotionError(f"Project.keyframes: two keyframes at frame {duplicate}")
        last = self.motion.num_frames - 1
        for key in keyframes:
            if key.frame > last:
                raise MotionError(
                    f"Project.keyframes: keyframe at frame {key.frame} is past the last frame {last}"
                )
        segments = tuple(sorted(self.segments, key=lambda s: (s.start, s.end)))
        for segment in segments:
            if segment.end > self.motion.num_frames:
                raise MotionError(
                    f"Project.segments: '{segment.gloss}' ends at frame {segment.end}, past the "
                    f"motion's {self.motion.num_frames} frames"
                )
        if len(self.markers) > MAX_MARKERS:
            raise MotionError(f"Project.markers: at most {MAX_MARKERS:,} markers, got "
                              f"{len(self.markers):,}")
        for marker in self.markers:
            if not isinstance(marker, FaceMarker):
                raise MotionError(f"Project.markers: expected FaceMarkers, got {marker!r:.60}")
        markers = tuple(sorted(self.markers, key=lambda m: (m.start, m.track.value, m.end)))
        for marker in markers:
            if marker.end > self.motion.num_frames:
                raise MotionError(
                    f"Project.markers: '{marker.kind.label}' ends at frame {marker.end}, past "
                    f"the motion's {self.motion.num_frames} frames")
        if len(self.contacts) > MAX_CONTACTS or not all(
                isinstance(lock, ContactLock) for lock in self.contacts):
            raise MotionError(f"Project.contacts: expected at most {MAX_CONTACTS:,} "
                              f"ContactLocks, got {self.contacts!r:.60}")
        contacts = tuple(sorted(self.contacts, key=lambda c: (c.start, c.side, c.point)))
        for lock in contacts:
            if lock.end > self.motion.num_frames:
                raise MotionError(
                    f"Project.contacts: '{lock.label}' ends at frame {lock.end}, past the "
                    f"motion's {self.motion.num_frames} frames")
        if not isinstance(self.mouthing, bool):
            raise MotionError(f"Project.mouthing: expected true or false, got {self.mouthing!r}")
        try:
            avatar = AvatarChoice(self.avatar)
        except ValueError:
            raise MotionError(
                f"Project.avatar: expected one of {[a.value for a in AvatarChoice]}, "
                f"got {self.avatar!r}"
            ) from None
        object.__setattr__(self, "keyframes", keyframes)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "markers", markers)
        object.__setattr__(self, "contacts", contacts)
        object.__setattr__(self, "avatar", avatar)

    def replace(self, **changes: object) -> Project:
        return dataclasses.replace(self, **changes)

    def keyframe_at(self, frame: int) -> Keyframe | None:
        return next((k for k in self.keyframes if k.frame == frame), None)

    def frame_labels(self) -> tuple[str | None, ...]:
        """What is signed at each frame, as a learned model conditions on it.

        Returns ``motion.num_frames`` entries, each ``"<language>:<gloss>"`` (the form of
        ``engine.learn.encoders.condition_text`` and ``ClipRecord.label``, e.g.
        ``"ase:A"`` for a fingerspelled letter, whose gloss is its lexicon entry's) or
        None. The frames are labelled the way the flow model's training sequences are
        (``engine.learn.train_flow.ExampleSampler.draw``): a segment's frames carry its
        label; a gap between segments, and a TRANSITION segment, carries the label of
        the sign it leads into, because training labels each transition with the clip
        that follows it; frames after the last sign keep its label. Every frame is None
        when no segment names a sign (no segments, or transitions only).

        LEXICON, FINGERSPELLED, RECORDED and MANUAL all name a sign: the kind says
        where a segment's motion came from (a hand-keyed MANUAL sign is still the sign
        its gloss names, and ``Segment`` requires a gloss), so each is labelled alike.
        Where segments overlap (nothing forbids it), the earlier one keeps its frames.
        """
        return frame_labels(self.segments, self.motion.num_frames)

    def equals(self, other: Project) -> bool:
        """Exact equality of everything that is saved."""
        return (
            isinstance(other, Project)
            and self.motion.equals(other.motion)
            and len(self.keyframes) == len(other.keyframes)
            and all(a.equals(b) for a, b in zip(self.keyframes, other.keyframes))
            and self.segments == other.segments
            and self.avatar == other.avatar
            and self.title == other.title
            and self.origin == other.origin
            and self.markers == other.markers
            and self.mouthing == other.mouthing
            and self.locked == other.locked
            and self.muted == other.muted
            and self.contacts == other.contacts
        )


def frame_labels(segments: Iterable[Segment], frames: int) -> tuple[str | None, ...]:
    """``Project.frame_labels`` of ``segments`` over ``frames`` frames, for a motion that
    is still being built (assembly labels its transitions before the Project exists)."""
    labels: list[str | None] = [None] * frames
    cursor = 0  # the first frame not yet labelled
    label = None
    for segment in segments:
        if segment.kind is SegmentKind.TRANSITION or segment.end <= cursor:
            continue
        label = f"{segment.language}:{segment.gloss}"
        labels[cursor:segment.end] = [label] * (segment.end - cursor)
        cursor = segment.end
    labels[cursor:] = [label] * (frames - cursor)
    return tuple(labels)
