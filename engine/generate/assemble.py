"""Assembly: tokens -> one Project on a timeline, with holds and generated transitions.

Each lexicon clip is an isolated sign: the hands rise from rest, make the sign, and
drop back toward rest. Joined whole, a fingerspelled word would fall to the waist after
every letter and rise again for the next; a signer keeps the hands up in signing space
from sign to sign (co-articulation). So each gloss contributes only its *articulation
span* (``articulation_span``): the first piece of the utterance keeps its rise (it
starts from rest), the last keeps its drop (it ends at rest), and every piece in
between is trimmed at both ends. Most recordings start partway up the rise and stop
partway down the drop; the utterance then begins with a generated rise from the
signer's rest (``resting_pose``) and ends with a generated drop back to it, both
``Timing.rest_transition`` long and keyed at the rest frame.

Each gloss becomes a ``Segment``: its used frames (resampled to the project's fps),
followed by ``hold`` frames of the span's last frame, the sign still in signing space,
so a fingerspelled letter stays on screen long enough to read (signers asked
for holds between letters). The last piece's drop follows its segment's hold, as the
utterance's return to rest: a segment's hold is always its final frames. Between
consecutive segments a transition of ``transition`` frames is *generated* by the KF2P
smooth in-betweener from the held frame of one sign to the first used frame of the
next (never a cut; the discrete-to-continuous synthesis of Motion is the Choreographer). Keyframes are placed
at each sign's onset, midpoint and offset (SignSparK's policy) over the frames actually
used, and on the final rest frame, on all channels, so later edits regenerate around
what the lexicon says.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.body.default_avatar import default_avatar
from engine.body.reference_poses import lowered_arm, mirror_arm
from engine.body.skeleton import wrist_heights_above_waist
from engine.data.lexicon import LexiconStore
from engine.generate.kf2p import regenerate
from engine.generate.text import Token, TokenKind
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.motion import Motion
from engine.motion.project import Keyframe, Project, Segment, SegmentKind
from engine.motion.resample import resample


@dataclass(frozen=True)
class Timing:
    """Default durations in seconds (converted to frames at ``fps``)."""

    fps: float = 30.0
    letter_hold: float = 0.20       # a letter held still after it forms
    sign_hold: float = 0.05
    letter_transition: float = 0.15  # between two letters of one word
    sign_transition: float = 0.30    # between words/signs
    #: from rest into the first sign / from the last sign back to rest, when the clip
    #: itself starts / ends with a hand raised (``resting_pose``); under 2 frames: none
    rest_transition: float = 0.40

    def frames(self, seconds: float) -> int:
        return max(0, int(round(seconds * self.fps)))


#: Where the articulation begins (ends): the first (last) frame at which a signing hand
#: has covered this fraction of its rise from the clip's first frame to its first pause
#: (of its drop from its last pause to the clip's last frame). Tuned on the 600 fitted
#: fingerspelling clips of 19 languages at 30 fps: at 0.9 the span's last frame (the
#: held one) has the wrist on average 1.9 cm below its height over the clip's middle
#: third (3.9 cm at the 90th percentile) and finger angles 0.041 rad (mean abs) from
#: the middle third's; 3.4 cm and 0.050 rad at 0.8, 5.2 cm and 0.060 rad at 0.7, and
#: 0.103 rad at a whole clip's last frame, where the hand has begun to relax. 0.95
#: gains little (1.2 cm, 0.034 rad) for more of each sign's start cut.
ARTICULATION_FRACTION = 0.9
#: A hand that rises (drops) less than this many metres at one end of a clip is already
#: in signing space there: that end is not trimmed.
MIN_RISE_M = 0.05
#: Vertical speed (m/s) under which a raised hand counts as pausing: where the rise from
#: rest ends and the drop to rest begins. Measuring the rise to the first pause, not
#: to the highest point, keeps a sign's own vertical movement: ASL J sinks 14 cm from
#: its highest point as it draws the hook, pauses, then drops; measured from the
#: highest point of the clip's second half, a fraction of 0.9 cut the whole hook, and
#: 16 of the 600 clips lost a pause in signing space (1 measured to the pause: a
#: garbled 125-frame Greek clip).
PAUSE_SPEED_M_S = 0.15
#: Clips shorter than this many frames are used whole: too short to have a rise, a
#: sign and a drop worth telling apart.
MIN_FRAMES_TO_TRIM = 6
#: A wrist more than this many metres above where it hangs (``lowered_arm``) is raised:
#: not at rest. Measured on the 600 fitted clips: the idle hand of one-handed alphabets
#: rests 0.07 to 0.14 m below spine1 (arms down: 0.10), while the signing hand's first
#: frame is 0.15 to 0.21 m ABOVE spine1 in ase, eso and ukl and 0.05 to 0.11 m above it
#: in most other languages: the recordings start and end mid-rise.
RAISED_ABOVE_REST_M = 0.05


def resting_pose(frame: Motion, avatar=None) -> tuple[Motion, bool]:
    """(``frame`` with every raised arm brought to rest, whether any arm was raised).

    The rest a raised arm takes is the signer's own: the mirror image of the other arm
    when that one rests (in one-handed signing the idle hand shows how this signer
    rests), else the arm hanging straight (``lowered_arm``). Everything else (trunk, head,
    face, a resting arm) stays as it is, so a generated rise or drop moves only arms.
    ``frame``: 1 frame; ``avatar``: the body to measure on (default avatar).
    """
    avatar = avatar or default_avatar()
    heights = wrist_heights_above_waist(avatar.forward(frame).joints)[0]  # (left, right) m
    both_lowered = lowered_arm(lowered_arm(frame, "left"), "right")
    hanging = wrist_heights_above_waist(avatar.forward(both_lowered).joints)[0]
    raised = heights > hanging + RAISED_ABOVE_REST_M
    rest = frame
    for index, side in enumerate(("left", "right")):
        if raised[index]:
            other = 1 - index
            rest = (mirror_arm(rest, ("left", "right")[other]) if not raised[other]
                    else lowered_arm(rest, side))
    return rest, bool(raised.any())


def _rise_end(height: np.ndarray, fps: float, fraction: float, min_rise: float) -> int | None:
    """First frame at which a wrist's ``height`` (F,) metres above the waist has covered
    ``fraction`` of its rise from frame 0 to its first pause (``PAUSE_SPEED_M_S``) above
    the waist and at least ``min_rise / 2`` above frame 0 (below that, a hand still at
    rest would count as pausing); to the highest point of the first half when it never
    pauses there. None when the rise is under ``min_rise`` metres (the hand starts in
    signing space) or stays below the waist (a resting arm's sway, not a rise into
    signing space)."""
    speed = np.full(len(height), np.inf)
    speed[1:-1] = np.abs(height[2:] - height[:-2]) * fps / 2
    pauses = np.flatnonzero((speed < PAUSE_SPEED_M_S) & (height > 0)
                            & (height >= height[0] + min_rise / 2))
    top = height[pauses[0]] if len(pauses) else height[:(len(height) + 1) // 2].max()
    rise = top - height[0]
    if rise < min_rise or top <= 0:
        return None
    return int(np.argmax(height >= height[0] + fraction * rise))


def articulation_span(joints: np.ndarray, fps: float, fraction: float = ARTICULATION_FRACTION,
                      min_rise: float = MIN_RISE_M) -> tuple[int, int]:
    """Frames ``[start, stop)`` of an isolated sign in which the sign is made with the
    hands up: without the rise from rest before it and the drop back to rest after it.

    ``joints``: (F, 55, 3) joint positions in metres, y up (a body model's
    ``forward(motion).joints``), at ``fps`` frames per second. A hand's height is its
    wrist's y above the spine1 joint's (the waist), so leaning or a moving root does
    not count as a rise. A hand signs when its rise ends above the waist
    (``engine.body.skeleton.wrist_heights_above_waist``, the hands close-up's rule too);
    a resting arm that sways below it is ignored.

    Onset: a hand rises from its height at the first frame until it first pauses
    (moves up or down slower than ``PAUSE_SPEED_M_S``) in signing space; the
    articulation starts at the first frame that has covered ``fraction`` of that rise.
    Offset, mirrored in time: the drop runs from the hand's last pause down to the last
    frame, and the articulation ends after the last frame still above ``fraction`` of
    it. Everything between onset and offset is kept, dips included.

    A hand that rises (drops) less than ``min_rise`` metres leaves that end untrimmed;
    with two signing hands the span runs from the earliest onset to the latest offset
    of those that rise (drop). A clip under ``MIN_FRAMES_TO_TRIM`` frames, or one whose
    onset would not come before its offset, is returned whole: the span is never empty.
    """
    joints = np.asarray(joints, np.float64).reshape(-1, 55, 3)
    num_frames = len(joints)
    if num_frames < MIN_FRAMES_TO_TRIM:
        return 0, num_frames
    heights = wrist_heights_above_waist(joints)
    onsets, offsets = [], []
    for height in heights.T:
        onset = _rise_end(height, fps, fraction, min_rise)
        if onset is not None:
            onsets.append(onset)
        # The drop is the rise of the clip played backwards.
        from_end = _rise_end(height[::-1], fps, fraction, min_rise)
        if from_end is not None:
            offsets.append(num_frames - from_end)
    start, stop = min(onsets, default=0), max(offsets, default=num_frames)
    return (start, stop) if start < stop else (0, num_frames)


def clip_articulation_span(motion: Motion) -> tuple[int, int]:
    """``articulation_span`` of ``motion`` posed on the default avatar."""
    return articulation_span(default_avatar().forward(motion).joints, motion.fps)


@dataclass(frozen=True)
class _Piece:
    gloss: str
    kind: SegmentKind
    motion: Motion
    span: tuple[int, int]  # articulation_span of motion
    hold: int
    transition_after: int  # frames of generated transition after this piece
    notation: str = ""  # the entry's HamNoSys, when it was made from notation


def _pieces(tokens: Iterable[Token], store: LexiconStore, timing: Timing,
            progress: Progress, cancel: CancelToken | None) -> list[_Piece]:
    tokens = [t for t in tokens if t.kind is not TokenKind.MISSING]
    total = sum(len(t.glosses) for t in tokens)
    cache: dict[int, tuple[Motion, tuple[int, int], str]] = {}
    pieces: list[_Piece] = []
    done = 0
    for token_index, token in enumerate(tokens):
        spelled = token.kind is TokenKind.FINGERSPELLED
        for gloss_index, (gloss, entry_id) in enumerate(zip(token.glosses, token.entry_ids)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if entry_id not in cache:
                entry = store.get(entry_id)
                motion = resample(entry.motion, timing.fps)
                cache[entry_id] = motion, clip_articulation_span(motion), entry.notation
            motion, span, notation = cache[entry_id]
            last_in_token = gloss_index == len(token.glosses) - 1
            last_overall = last_in_token and token_index == len(tokens) - 1
            transition = 0 if last_overall else timing.frames(
                timing.letter_transition if spelled and not last_in_token
                else timing.sign_transition)
            pieces.append(_Piece(
                gloss=gloss,
                kind=SegmentKind.FINGERSPELLED if spelled else SegmentKind.LEXICON,
                motion=motion, span=span,
                hold=timing.frames(timing.letter_hold if spelled else timing.sign_hold),
                transition_after=transition, notation=notation))
            done += 1
            progress(done, total, f"{gloss}")
    return pieces


#: Frames either side of a range that the baseline in-betweeners read (the border
#: anchors at start - 1 and stop, and one further out for their velocity).
BASELINE_CONTEXT = 2


def regenerate_in_place(arrays: dict[str, np.ndarray], betas: np.ndarray, fps: float,
                        frame_range: tuple[int, int], backend: str) -> None:
    """A baseline in-between of ``frame_range`` written into ``arrays`` (a motion's
    per-frame fields as writable arrays, ``Motion.frame_arrays`` names and shapes).

    Only a window of ``BASELINE_CONTEXT`` frames around the range is handed to
    ``regenerate``, so an utterance's transitions cost time in proportion to their own
    length, not to the whole utterance each (assembly was quadratic in the number of
    signs: 10,000 characters of text ran past 600 s). The result equals regenerating
    the whole motion, frame for frame (tested).
    """
    start, stop = frame_range
    total = len(arrays["global_orient"])
    low, high = max(0, start - BASELINE_CONTEXT), min(total, stop + BASELINE_CONTEXT)
    window = Motion(**{name: array[low:high] for name, array in arrays.items()},
                    betas=betas, fps=fps)
    done = regenerate(window, [], (start - low, stop - low), backend=backend)[0]
    for name, array in done.frame_arrays().items():
        arrays[name][start:stop] = array[start - low:stop - low]


def assemble(tokens: Iterable[Token], store: LexiconStore, language: str,
             timing: Timing = Timing(), *, progress: Progress = no_progress,
             cancel: CancelToken | None = None, title: str = "") -> Project:
    """Build the Project for ``tokens`` (MISSING tokens are skipped; the coverage
    report says so). Raises ValueError when nothing can be signed."""
    pieces = _pieces(tokens, store, timing, progress, cancel)
    if not pieces:
        raise ValueError("nothing to sign: every token is missing from the lexicon")
    betas = pieces[0].motion.betas
    parts: list[Motion] = []
    segments: list[Segment] = []
    gaps: list[tuple[int, int]] = []
    rest_legs: list[tuple[int, int]] = []  # generated rises from / drops to rest
    keyframe_frames: list[int] = []
    cursor = 0
    # Most recordings start with the signing hand already partway up: the utterance
    # then starts from the signer's rest and rises into its first sign (generated).
    rest_frames = timing.frames(timing.rest_transition)
    start_rest, raised = resting_pose(pieces[0].motion.replace(betas=betas).frame(0))
    if raised and rest_frames >= 2:
        parts.append(Motion.concatenate([start_rest] * rest_frames))
        rest_legs.append((1, rest_frames))
        keyframe_frames.append(0)
        cursor = rest_frames
    for number, piece in enumerate(pieces):
        clip = piece.motion.replace(betas=betas)
        # The utterance rises from rest into its first sign and drops back to rest
        # after its last; in between the hands stay in signing space.
        first_used = 0 if number == 0 else piece.span[0]
        span_stop = piece.span[1]
        movement = clip.slice(first_used, span_stop)
        held_pose = clip.frame(span_stop - 1)
        parts.append(Motion.concatenate([movement] + [held_pose] * piece.hold))
        start, movement_end = cursor, cursor + movement.num_frames
        end = movement_end + piece.hold
        segments.append(Segment(piece.gloss, language, start, end, piece.hold, piece.kind,
                                piece.notation))
        keyframe_frames += [start, (start + movement_end - 1) // 2, movement_end - 1]
        cursor = end
        if number == len(pieces) - 1:
            if span_stop < clip.num_frames:
                parts.append(clip.slice(span_stop, clip.num_frames))
                cursor += clip.num_frames - span_stop
                keyframe_frames.append(cursor - 1)  # where the recording's drop ends
            end_rest, raised = resting_pose(clip.frame(clip.num_frames - 1))
            if raised and rest_frames >= 2:  # ... on to rest, if the recording stops short
                parts.append(Motion.concatenate([end_rest] * rest_frames))
                rest_legs.append((cursor, cursor + rest_frames - 1))
                cursor += rest_frames
                keyframe_frames.append(cursor - 1)
        if piece.transition_after:
            # Placeholder frames (the held pose) that KF2P replaces below.
            parts.append(Motion.concatenate([held_pose] * piece.transition_after))
            gaps.append((cursor, cursor + piece.transition_after))
            cursor += piece.transition_after
    motion = Motion.concatenate(parts)
    del parts  # long utterances are hundreds of MB: keep at most two copies alive
    arrays = {name: array.copy() for name, array in motion.frame_arrays().items()}
    betas, fps = motion.betas, motion.fps
    del motion
    for gap in gaps:
        if cancel is not None:
            cancel.raise_if_cancelled()
        # No keyframes inside: the frames either side anchor a smooth transition.
        regenerate_in_place(arrays, betas, fps, gap, "smooth")
    for leg in rest_legs:
        # Geodesic at constant speed, not the spline: a recording cut mid-rise arrives
        # fast (ASL H rises 6 cm a frame), and a spline matching that velocity swung
        # the arm up past the sign and forward by 10 cm before joining it.
        regenerate_in_place(arrays, betas, fps, leg, "slerp")
    for array in arrays.values():
        array.setflags(write=False)  # so Motion takes the arrays as they are, uncopied
    motion = Motion(**arrays, betas=betas, fps=fps)
    keyframes = tuple(Keyframe.from_motion(motion, f) for f in sorted(set(keyframe_frames)))
    return Project(motion=motion, keyframes=keyframes, segments=tuple(segments), title=title)


def transition_ranges(project: Project) -> list[tuple[int, int]]:
    """The generated (between-segment) frame ranges of an assembled project."""
    ranges = []
    for before, after in zip(project.segments, project.segments[1:]):
        if after.start > before.end:
            ranges.append((before.end, after.start))
    return ranges


def max_join_jump(motion: Motion, ranges: list[tuple[int, int]]) -> float:
    """Largest per-frame joint-rotation change (radians, as axis-angle difference)
    across the borders of ``ranges``: a cut would show as a large value here."""
    pose = motion.full_pose()
    jumps = [0.0]
    for start, stop in ranges:
        for a, b in ((start - 1, start), (stop - 1, stop)):
            if 0 <= a and b < motion.num_frames:
                jumps.append(float(np.abs(pose[b] - pose[a]).max()))
    return max(jumps)
