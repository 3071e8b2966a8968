"""Assembly: tokens -> one Project on a timeline, signed fluently.

Each lexicon clip is an isolated citation form: the hands rise from rest, make the
sign slowly, and drop back toward rest. Joined whole, a fingerspelled word fell to the
waist after every letter, froze, and took a second a letter. A signer keeps the hands
up in signing space from sign to sign (co-articulation), spells in one place, and is
much faster. So (``engine.generate.timing`` holds the durations and their sources):

- each gloss contributes only its *articulation span* (``articulation_span``), without
  the rest of its rise or the start of its drop (``fluency.settled_span``);
- inside it, the sign's still part (``fluency.form_window``: a letter's handshape
  held) is shown for the timing's ``form`` and the movement around it plays faster
  than recorded (``fluency.played_frames``);
- a fingerspelled word's letters are brought to one place, double letters marked
  (``fluency.word_offsets``);
- between consecutive pieces a transition is *generated* by the KF2P smooth in-betweener
  (never a cut; the discrete-to-continuous synthesis of Motion is the Choreographer),
  joining both pieces at their own speed, long enough that no joint turns faster than a
  signer's (``fluency.transition_frames``), with the next handshape formed early
  (``fluency.lead_hands``);
- the utterance begins with a generated rise from the signer's rest (``resting_pose``)
  and ends with a generated drop back to it, ``Timing.rest_transition`` long;
- the hands are kept out of the head, neck and trunk (``engine.body.penetration``).

No frame is a frozen copy of another: a segment's ``hold`` (frames of its last pose
held still) is 0 until a user writes one (``retime.set_segment_hold``). Keyframes are
placed at each sign's onset, midpoint and offset (SignSparK's policy) and on both rest
frames, on all channels, so later edits regenerate around what the lexicon says.
Measurements: docs/fluency.md.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from engine.body.default_avatar import default_avatar
from engine.body.reach import shift_wrist
from engine.body.reference_poses import lowered_arm, mirror_arm
from engine.body.skeleton import JOINT_INDEX, wrist_heights_above_waist
from engine.data.lexicon import LexiconStore
from engine.generate.fluency import (
    MOVING_PATH_M, bounce_offsets, bridge, form_window, lead_hands, outside_path, played_frames,
    settled_span, signing_sides, stillness, straighten, transition_frames, word_offsets,
)
from engine.generate.kf2p import regenerate
from engine.body.hands_apart import kept_apart
from engine.body.penetration import hand_depths, keep_forearms_out, resolve_penetration
from engine.generate.text import Token, TokenKind
from engine.generate.timing import PieceTiming, Timing, double_letter_mark
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.filtering import FITTED_CUTOFF_HZ, low_pass
from engine.motion.errors import MotionError
from engine.motion.markers import Mouthing
from engine.motion.motion import Motion
from engine.motion.project import Keyframe, Project, Segment, SegmentKind, frame_labels
from engine.motion.resample import resample, sample_at


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
    return articulation_span(default_avatar().joints(motion), motion.fps)


@dataclass(frozen=True)
class _Clip:
    """A lexicon entry measured once per assembly: its motion at the utterance's fps
    (low-passed first when it is a recording fitted before fitting did that), its
    articulation ``span``, the ``form`` inside it (``fluency.form_window``) and the
    hands that sign in it."""

    motion: Motion
    span: tuple[int, int]
    form: tuple[int, int]
    sides: tuple[str, ...]
    notation: str
    source_kind: str
    #: Whether the sign's movement outside its form is its meaning (``fluency.
    #: MOVING_PATH_M``): then it is sped up but never cut to the movement cap.
    moving: bool = False
    #: The tempo a notation sign was synthesised at (``quality["signing_speed"]``), or
    #: None when the entry does not say (it is then taken as made at the asked tempo).
    made_at: float | None = None


def _measured_clip(entry, fps: float) -> _Clip:
    motion = entry.motion
    if (entry.source_kind in FITTED_SOURCES and "low_pass_hz" not in entry.quality
            and FITTED_CUTOFF_HZ < motion.fps / 2):
        motion = low_pass(motion, FITTED_CUTOFF_HZ)
    motion = resample(motion, fps)
    joints = default_avatar().joints(motion)
    span = articulation_span(joints, fps)
    sides = signing_sides(joints[span[0]:span[1]])
    hands = {side: getattr(motion, f"{side}_hand_pose") for side in sides}
    form = form_window(stillness(joints, hands, fps), span, fps)
    raised = [("left", "right").index(side) for side in sides]
    span = settled_span(wrist_heights_above_waist(joints)[:, raised], span, form, fps)
    made_at = entry.quality.get("signing_speed") if entry.source_kind == "notation" else None
    made_at = float(made_at) if isinstance(made_at, (int, float)) and made_at > 0 else None
    main = "right" if "right" in sides else "left"
    tip = joints[:, JOINT_INDEX[f"{main}_index3"]] - joints[:, JOINT_INDEX["neck"]]
    moving = outside_path(tip, span, form) > MOVING_PATH_M
    return _Clip(motion, span, form, sides, entry.notation, entry.source_kind, moving, made_at)


#: Lexicon sources that are fitted recordings (and so tremble unless low-passed).
FITTED_SOURCES = ("package", "video")


@dataclass(frozen=True)
class _Piece:
    """One gloss as it is played: ``motion``, the frames its segment shows; ``clip``,
    where they came from; ``transition_after``, frames generated after it."""

    gloss: str
    kind: SegmentKind
    motion: Motion
    clip: _Clip
    transition_after: int
    word: str = ""  # the typed word a sign stands for ("" for a spelled letter)


def _piece_timing(timing: Timing, clip: _Clip, spelled: bool) -> PieceTiming:
    if spelled:
        return timing.letter
    if clip.source_kind == "notation":
        return timing.notation
    return timing.recording if clip.source_kind == "video" else timing.sign


def _played(clip: _Clip, piece: PieceTiming, timing: Timing, extra_form: float = 0.0) -> Motion:
    """The frames a clip shows: its span, its form held ``piece.form`` (+ ``extra_form``)
    seconds, the rest sped up (``fluency.played_frames``)."""
    speed = timing.speed(piece)
    if clip.source_kind == "notation":
        # Synthesised at a tempo already (the signing_speed setting at the time): the
        # asked tempo relative to that one, not on top of it.
        speed = piece.speed * (timing.tempo / clip.made_at if clip.made_at else 1.0)
    limit = 0 if clip.moving else timing.frames(piece.movement)
    positions = played_frames(clip.span, clip.form, timing.frames(piece.form + extra_form),
                              speed, limit)
    return sample_at(clip.motion, positions)


def _in_one_place(pieces: list[_Piece], language: str) -> list[_Piece]:
    """A fingerspelled word's letters moved to one place, double letters marked
    (``fluency.word_offsets``, ``engine.body.reach.shift_wrist``). The word's letters
    are measured and moved together: one pass of FK and IK for the word, not one per
    letter (a tenth of assembly's time)."""
    avatar = default_avatar()
    main = "right" if "right" in pieces[0].clip.sides else "left"
    wrist, neck = JOINT_INDEX[f"{main}_wrist"], JOINT_INDEX["neck"]
    word = Motion.concatenate([piece.motion for piece in pieces])
    bounds = np.cumsum([0] + [piece.motion.num_frames for piece in pieces])
    joints = avatar.joints(word)
    relative = joints[:, wrist] - joints[:, neck]
    places = [relative[low:high].mean(axis=0) for low, high in zip(bounds, bounds[1:])]
    mark = double_letter_mark(language)
    glosses = [piece.gloss for piece in pieces]
    offsets = np.zeros((word.num_frames, 3))
    for index, offset in enumerate(word_offsets(places, glosses, mark, main)):
        low, high = bounds[index], bounds[index + 1]
        offsets[low:high] = offset
        if mark == "bounce" and index and glosses[index] == glosses[index - 1]:
            offsets[low:high] += bounce_offsets(high - low)
    moving = np.abs(offsets).max(axis=1) > 0
    body_pose = word.body_pose.copy()
    for side in ("left", "right"):
        signing = np.zeros(word.num_frames, bool)
        for index, piece in enumerate(pieces):
            signing[bounds[index]:bounds[index + 1]] = side in piece.clip.sides
        if not (signing & moving).any():
            continue
        # Every hand that signs a letter moves with it, so two hands keep their contact.
        shifted = shift_wrist(word, avatar.rest_joints, avatar.parents, side, offsets)
        arm = [JOINT_INDEX[f"{side}_{joint}"] - 1 for joint in ("shoulder", "elbow", "wrist")]
        rows = np.flatnonzero(signing & moving)
        body_pose[np.ix_(rows, arm)] = shifted.body_pose[np.ix_(rows, arm)]
    return [replace(piece, motion=piece.motion.replace(body_pose=body_pose[low:high]))
            for piece, low, high in zip(pieces, bounds, bounds[1:])]


def _pieces(tokens: Iterable[Token], store: LexiconStore, language: str, timing: Timing,
            progress: Progress, cancel: CancelToken | None) -> list[_Piece]:
    tokens = [t for t in tokens if t.kind is not TokenKind.MISSING]
    total = sum(len(t.glosses) for t in tokens)
    cache: dict[int, _Clip] = {}
    pieces: list[_Piece] = []
    done = 0
    for token_index, token in enumerate(tokens):
        spelled = token.kind is TokenKind.FINGERSPELLED
        word: list[_Piece] = []
        for gloss_index, (gloss, entry_id) in enumerate(zip(token.glosses, token.entry_ids)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if entry_id not in cache:
                cache[entry_id] = _measured_clip(store.get(entry_id), timing.fps)
            clip = cache[entry_id]
            last_in_token = gloss_index == len(token.glosses) - 1
            last_overall = last_in_token and token_index == len(tokens) - 1
            piece_timing = _piece_timing(timing, clip, spelled)
            # At least one generated frame between two pieces (at 10 fps and tempo 2 a
            # transition rounds to none and the pose cut 1.5 rad in one frame); how many
            # more the change needs, ``transition_frames`` decides.
            if last_overall:
                transition = 0
            elif spelled and not last_in_token:
                transition = max(1, timing.frames(piece_timing.transition))
            else:
                transition = max(1, timing.frames(max(timing.word_transition,
                                                      piece_timing.transition)))
            extra = timing.word_pause if spelled and last_in_token else 0.0
            word.append(_Piece(
                gloss=gloss, kind=SegmentKind.FINGERSPELLED if spelled else SegmentKind.LEXICON,
                motion=_played(clip, piece_timing, timing, extra), clip=clip,
                transition_after=transition, word="" if spelled else token.text))
            done += 1
            progress(done, total, f"{gloss}")
        pieces += _in_one_place(word, language) if spelled and len(word) > 1 else word
    return pieces

#: Frames either side of a range that the baseline in-betweeners read (the border
#: anchors at start - 1 and stop, and one further out for their velocity).
BASELINE_CONTEXT = 2


def regenerate_in_place(arrays: dict[str, np.ndarray], betas: np.ndarray, fps: float,
                        frame_range: tuple[int, int], backend: str, keep_out: bool = True) -> None:
    """A baseline in-between of ``frame_range`` written into ``arrays`` (a motion's
    per-frame fields as writable arrays, ``Motion.frame_arrays`` names and shapes).

    Only a window of ``BASELINE_CONTEXT`` frames around the range is handed to
    ``regenerate``, so an utterance's transitions cost time in proportion to their own
    length, not to the whole utterance each (assembly was quadratic in the number of
    signs: 10,000 characters of text ran past 600 s). The result equals regenerating
    the whole motion, frame for frame (tested). ``keep_out``: as ``regenerate``'s.
    """
    start, stop = frame_range
    total = len(arrays["global_orient"])
    low, high = max(0, start - BASELINE_CONTEXT), min(total, stop + BASELINE_CONTEXT)
    window = Motion(**{name: array[low:high] for name, array in arrays.items()},
                    betas=betas, fps=fps)
    done = regenerate(window, [], (start - low, stop - low), backend=backend,
                      keep_out=keep_out)[0]
    for name, array in done.frame_arrays().items():
        arrays[name][start:stop] = array[start - low:stop - low]


def _learned_transitions(timing: Timing):
    """The learned in-betweener (``FlowKF2P``) the timing asks for, or None for the
    spline. "auto" uses the shipped model when it is installed; "learned" requires it
    (``MotionError`` naming the checkpoint otherwise)."""
    if timing.transitions == "spline":
        return None
    from engine.generate.flow_backend import default_checkpoint_path, default_flow
    from engine.learn.checkpoint import CheckpointError

    if timing.transitions == "auto" and not default_checkpoint_path().is_file():
        return None
    try:
        return default_flow()
    except CheckpointError as error:
        raise MotionError(f"learned transitions: {error}") from None


def assemble(tokens: Iterable[Token], store: LexiconStore, language: str,
             timing: Timing = Timing(), *, progress: Progress = no_progress,
             cancel: CancelToken | None = None, title: str = "",
             mouth: Callable[[str], Mouthing | None] | None = None) -> Project:
    """Build the Project for ``tokens`` (MISSING tokens are skipped; the coverage
    report says so). Raises ValueError when nothing can be signed. ``mouth``: the
    mouthing of a sign's typed word (None: signs are not mouthed; letters never are)."""
    pieces = _pieces(tokens, store, language, timing, progress, cancel)
    if not pieces:
        raise ValueError("nothing to sign: every token is missing from the lexicon")
    betas = pieces[0].motion.betas
    parts: list[Motion] = []
    segments: list[Segment] = []
    gaps: list[tuple[tuple[int, int], tuple[str, ...]]] = []  # (range, hands to lead)
    rest_legs: list[tuple[int, int]] = []  # generated rises from / drops to rest
    keyframe_frames: list[int] = []
    cursor = 0
    # The utterance rises from the signer's rest into its first sign and drops back
    # after its last, both generated: a recording's own rise and drop are slow.
    rest_frames, fps = timing.frames(timing.rest_transition), timing.fps
    first_clip = pieces[0].clip.motion.replace(betas=betas)
    if rest_frames >= 2:
        start_rest, _ = resting_pose(first_clip.frame(0))
        parts.append(Motion.concatenate([start_rest] * rest_frames))
        rest_legs.append((1, rest_frames))
        keyframe_frames.append(0)
        cursor = rest_frames
    for number, piece in enumerate(pieces):
        movement = piece.motion.replace(betas=betas)
        parts.append(movement)
        start, end = cursor, cursor + movement.num_frames
        mouthing = mouth(piece.word) if mouth is not None and piece.word else None
        segments.append(Segment(piece.gloss, language, start, end, 0, piece.kind,
                                piece.clip.notation, mouthing))
        keyframe_frames += [start, (start + end - 1) // 2, end - 1]
        cursor = end
        if number == len(pieces) - 1:
            clip = piece.clip.motion.replace(betas=betas)
            end_rest, _ = resting_pose(clip.frame(clip.num_frames - 1))
            if rest_frames >= 2:
                parts.append(Motion.concatenate([end_rest] * rest_frames))
                rest_legs.append((cursor, cursor + rest_frames - 1))
                cursor += rest_frames
                keyframe_frames.append(cursor - 1)
        elif piece.transition_after:
            last_frame = movement.frame(movement.num_frames - 1)
            count = transition_frames(last_frame, pieces[number + 1].motion.frame(0),
                                      piece.transition_after, fps)
            # Placeholder frames that the in-betweener replaces below.
            parts.append(Motion.concatenate([last_frame] * count))
            gaps.append(((cursor, cursor + count), pieces[number + 1].clip.sides))
            cursor += count
    motion = Motion.concatenate(parts)
    del parts  # long utterances are hundreds of MB: keep at most two copies alive
    arrays = {name: array.copy() for name, array in motion.frame_arrays().items()}
    betas, fps = motion.betas, motion.fps
    del motion
    learned = _learned_transitions(timing)
    for gap, sides in gaps:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if learned is None:
            # No keyframes inside: the frames either side anchor a smooth transition
            # that leaves one sign and enters the next at their own speed.
            regenerate_in_place(arrays, betas, fps, gap, "smooth", keep_out=False)
            lead_hands(arrays, gap, sides)
        else:
            # The model draws the signing joints from its own spline of the frames
            # around; everything else (legs, face) goes the straight way across.
            bridge(arrays, gap)
    if learned is not None and gaps:
        # The learned in-betweener redraws every transition, in batches, conditioned on
        # the sign each one leads into (as it was trained).
        learned.fill(arrays, betas, fps, [gap for gap, _ in gaps],
                     frame_labels(segments, len(arrays["global_orient"])),
                     progress=progress, cancel=cancel)
    avatar = default_avatar()
    for number, leg in enumerate(rest_legs):
        # Geodesic at constant speed, not the spline: a sign can start fast (ASL H
        # rises 6 cm a frame), and a spline matching that velocity swung the arm up
        # past the sign and forward by 10 cm before joining it; then the wrist is put
        # on the straight line the hand travels.
        regenerate_in_place(arrays, betas, fps, leg, "slerp", keep_out=False)
        sides = (pieces[0] if number == 0 and leg[0] == 1 else pieces[-1]).clip.sides
        straighten(arrays, leg, sides, betas, fps, avatar.rest_joints, avatar.parents)
    if rest_legs and rest_legs[0][0] == 1:  # the rise: its first handshape formed early
        lead_hands(arrays, rest_legs[0], pieces[0].clip.sides)
    for array in arrays.values():
        array.setflags(write=False)  # so Motion takes the arrays as they are, uncopied
    motion = Motion(**arrays, betas=betas, fps=fps)
    # Once over the whole utterance (transitions and recordings alike): the forearms out
    # of the body by the elbows alone (the hands stay), then the hands out of the head,
    # neck and trunk, a contact left on the surface.
    motion = keep_forearms_out(motion)
    motion = resolve_penetration(motion, progress=progress, cancel=cancel)
    # Then the two arms out of each other in the transitions (the signs' own contacts
    # kept), when any sign uses both (one-handed signing leaves the other hand at rest).
    if any(len(piece.clip.sides) == 2 for piece in pieces):
        motion = _arms_apart_in_transitions(motion, [gap for gap, _ in gaps], cancel)
    keyframes = tuple(Keyframe.from_motion(motion, f, generated=True)
                      for f in sorted(set(keyframe_frames)))
    return Project(motion=motion, keyframes=keyframes, segments=tuple(segments), title=title)


#: Rounds of pushing the arms apart and the hands out of the trunk again (below).
ARMS_APART_ROUNDS = 3


def _arms_apart_in_transitions(motion: Motion, gaps: list[tuple[int, int]],
                               cancel: CancelToken | None) -> Motion:
    """``motion`` with the two arms pushed out of each other in the ``gaps`` (frame
    ranges of transitions), and the hands that push put into the trunk taken out again.

    After the trunk's keep-out, not before: its pushes put arms back into each other (8
    transition frames of Croatian letters, 5 to 11 mm). The push apart can put a hand
    into the trunk in turn (Croatian M's hand against the chest: 5 frames, 8 to 14 mm),
    so the hands are taken out of it again, as KF2P does, on the frames the push moved;
    a transition whose frames that moved is pushed apart again, up to
    ``ARMS_APART_ROUNDS`` times, each push easing toward the signs either side. On the
    100 sentences of bench/penetration.py that leaves no hand in the body and two frames
    of arms in each other (one round left five; pushing the frames next to a sign in
    full, without the easing, left one). Rounds stop early when nothing moved: rerunning every
    step on every transition cost a 10-word sentence 95 ms."""
    avatar = default_avatar()
    pending = gaps
    for _round in range(ARMS_APART_ROUNDS):
        if cancel is not None:
            cancel.raise_if_cancelled()
        moved = np.zeros(motion.num_frames, bool)
        for start, stop in pending:
            apart = kept_apart(motion, start, stop)
            if apart is not motion:
                moved[start:stop] = True
                motion = apart
        moved_frames = np.flatnonzero(moved)
        if not len(moved_frames):
            break
        if (hand_depths(avatar, motion.take(moved_frames)) <= 0).all():
            break  # (the usual case: measuring the moved frames alone is cheap)
        low, high = moved_frames[0], moved_frames[-1] + 1
        part = motion.slice(low, high)
        # The frames either side are the signs' own: a push eases toward them.
        out = resolve_penetration(part, changeable=moved[low:high], fixed_ends=True,
                                  cancel=cancel)
        pushed = np.any(out.body_pose != part.body_pose, axis=(1, 2))
        if not pushed.any():
            break
        body_pose = motion.body_pose.copy()
        body_pose[low:high] = out.body_pose
        motion = motion.replace(body_pose=body_pose)
        pushed_frames = np.zeros(motion.num_frames, bool)
        pushed_frames[low:high] = pushed
        pending = [(start, stop) for start, stop in gaps if pushed_frames[start:stop].any()]
    return motion


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
