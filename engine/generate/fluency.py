"""From a citation-form clip to a piece of fluent signing.

Three steps that assembly (``engine.generate.assemble``) takes for each clip:

- ``form_window``: the sign's still part, the frames in which its hands move least
  (for a letter, its handshape held), found on the recording itself;
- ``played_frames``: where each output frame samples the clip, so the form is shown
  for a set time and the movement around it plays faster than recorded (its own
  movement kept, only quicker: ASL J still draws its hook);
- ``word_offsets`` + ``engine.body.reach.shift_wrist``: the letters of a word, each
  recorded on its own, brought to one place (the word's median wrist position), a
  double letter's second letter slid or bounced as the language marks it;
- ``lead_hands``: in a generated transition the next handshape forms in the first
  ``HAND_LEAD`` of it, so a letter reads as soon as the hand arrives.
"""
from __future__ import annotations

import numpy as np

from engine.body.skeleton import JOINT_INDEX, wrist_heights_above_waist
from engine.generate.timing import DOUBLE_LETTER_SHIFT_M
from engine.motion.motion import ROTATION_FIELDS
from engine.motion.rotations import (
    axis_angle_to_quat_fast, quat_to_axis_angle_fast, slerp, slerp_quaternions,
)

#: Seconds of the clip that count as its form: the still part of a held letter lasted
#: 0.23 to 0.57 s in the ASL recordings (7 to 17 frames still, at 30 fps), so the
#: stillest 0.3 s is within the hold of a held letter and the calmest moment of a
#: moving one.
FORM_SECONDS = 0.3
#: How a frame's stillness is scored: finger rotation (rad/s, mean over the hand's 45
#: values) over FINGER_SCALE plus the index fingertip's speed relative to the neck (m/s)
#: over TIP_SCALE: 0.5 rad/s and 0.15 m/s are about where the recorded holds end.
FINGER_SCALE = 0.5
TIP_SCALE = 0.15
#: Share of a transition in which the next handshape is formed (the arm takes all of it).
HAND_LEAD = 0.75
#: A letter's wrist is moved at most this far to the word's place: further apart, the
#: letter is signed somewhere else on purpose (or the fit is wrong), and is left there.
MAX_PLACE_SHIFT_M = 0.10

_SIDES = ("left", "right")


def signing_sides(joints: np.ndarray) -> tuple[str, ...]:
    """The hands that sign in (F, 55, 3) ``joints``: those whose wrist rises above the
    waist in some frame (``wrist_heights_above_waist``); both when neither does."""
    raised = (wrist_heights_above_waist(joints) > 0).any(axis=0)
    return tuple(side for side, up in zip(_SIDES, raised) if up) or _SIDES


def stillness(joints: np.ndarray, hand_poses: dict[str, np.ndarray], fps: float) -> np.ndarray:
    """(F,) how much the signing hands move per frame (0 still; 1 about where a hold
    ends): ``FINGER_SCALE``/``TIP_SCALE`` units, summed over ``hand_poses`` (side ->
    (F, 15, 3) axis-angle)."""
    score = np.zeros(len(joints))
    if len(joints) < 2:
        return score
    neck = joints[:, JOINT_INDEX["neck"]]
    for side, pose in hand_poses.items():
        fingers = np.abs(np.gradient(pose.reshape(len(pose), -1), axis=0)).mean(axis=1) * fps
        tip = joints[:, JOINT_INDEX[f"{side}_index3"]] - neck
        tip_speed = np.linalg.norm(np.gradient(tip, axis=0), axis=1) * fps
        score += fingers / FINGER_SCALE + tip_speed / TIP_SCALE
    return score


def form_window(score: np.ndarray, span: tuple[int, int], fps: float) -> tuple[int, int]:
    """Frames ``[start, stop)`` inside ``span`` of the stillest ``FORM_SECONDS`` by
    ``score`` (``stillness``): the earliest such window, the whole span when shorter."""
    low, high = span
    width = max(1, min(high - low, int(round(FORM_SECONDS * fps))))
    window_means = np.convolve(score[low:high], np.ones(width) / width, mode="valid")
    start = low + int(np.argmin(window_means))
    return start, start + width


#: Vertical wrist speed (m/s) above which a hand is still rising into, or dropping out
#: of, signing space at the ends of an articulation span (half the pause speed of
#: ``engine.generate.assemble.PAUSE_SPEED_M_S``).
SETTLING_SPEED_M_S = 0.075


def settled_span(heights: np.ndarray, span: tuple[int, int], form: tuple[int, int],
                 fps: float) -> tuple[int, int]:
    """``span`` without the rest of the rise at its start and the start of the drop at
    its end: frames where a signing hand's wrist still climbs (falls) faster than
    ``SETTLING_SPEED_M_S``, never into the ``form``.

    ``heights``: (F, K) wrist heights (metres) of the K signing hands. Why: a fluent
    signer's hand goes from one sign to the next in signing space; a transition
    joined to a clip that is leaving for rest carries its downward speed on and dips
    (ASL "MY" into "NAME" dropped the hand to the chest). A sign's own vertical
    movement is kept: it ends in a pause before the drop (ASL J sinks, pauses, drops).
    """
    low, high = span
    step = SETTLING_SPEED_M_S / fps
    rising = np.all(np.diff(heights[low:high], axis=0) > step, axis=1)
    start = low
    while start < form[0] and start - low < len(rising) and rising[start - low]:
        start += 1
    falling = np.all(np.diff(heights[low:high], axis=0) < -step, axis=1)
    stop = high
    while stop > form[1] and falling[stop - low - 2]:
        stop -= 1
    return start, stop


#: Metres the index fingertip (relative to the neck) travels in a letter's span outside
#: its form, above which the letter's movement is its meaning (J's hook, Z's stroke,
#: DGS umlauts, digraphs) and is only sped up, never squeezed into the timing's
#: ``movement`` cap. On the 157 fitted letters of 5 languages: median 5 cm; ase J 37,
#: Z 52; gsg J 67, Z 28, Ä 44, Ü 47; csq J 32, DŽ 46; held letters mostly under 20
#: (a few noisy fits above: gsg U 79, csq F 54, which then play a little slower).
MOVING_PATH_M = 0.25


def outside_path(tip: np.ndarray, span: tuple[int, int], form: tuple[int, int]) -> float:
    """Metres a point's (F, 3) track travels in ``span`` before and after ``form``."""
    steps = np.linalg.norm(np.diff(tip, axis=0), axis=1)
    low, high = span
    return float(steps[low:max(low, form[0] - 1)].sum() + steps[min(high - 1, form[1]):high - 1].sum())


def played_frames(span: tuple[int, int], form: tuple[int, int], form_frames: int,
                  speed: float, movement_frames: int = 0) -> np.ndarray:
    """(N,) fractional clip frames to sample for a piece: the span ``[low, high)`` with
    its ``form`` shown on ``form_frames`` output frames (0: at ``speed``, like the rest)
    and the rest ``speed`` times faster than recorded, or faster still so it takes at
    most ``movement_frames`` frames (0: no limit). The first and last entries are the
    span's first and last frames; positions never go back."""
    low, high = span
    last = high - 1
    if last <= low:
        return np.array([float(low)])
    form_start, form_last = max(low, form[0]), min(last, form[1] - 1)
    moving = (form_start - low) + (last - form_last)
    rate = speed
    if movement_frames > 0 and moving / rate > movement_frames:
        rate = moving / movement_frames
    # Output time (in frame steps) of each knot of the clip; piecewise linear between.
    # A form of n frames spans n - 1 steps.
    form_steps = (form_frames - 1 if form_frames > 0 else (form_last - form_start) / speed)
    times = np.cumsum([0.0, (form_start - low) / rate, max(0.0, form_steps),
                       (last - form_last) / rate])
    positions = np.array([low, form_start, form_last, last], np.float64)
    if times[-1] <= 0:  # all of it one frame's form: its first and last frame, in order
        return np.array([float(low), float(last)])
    count = max(2, int(round(times[-1])) + 1)
    return np.interp(np.linspace(0.0, times[-1], count), times, positions)


def word_offsets(places: list[np.ndarray], glosses: list[str], mark: str,
                 signing_side: str) -> list[np.ndarray]:
    """(3,) world offsets (metres) that bring each letter of a word to one place.

    ``places``: each letter's mean wrist position (3,) relative to the neck; the word's
    place is their median. A letter further than ``MAX_PLACE_SHIFT_M`` from it stays
    where it is. The second of two equal letters in a row is then moved
    ``DOUBLE_LETTER_SHIFT_M`` toward the signing side for ``mark`` "slide" (the signer's
    right is -x); "bounce" is handled by ``bounce_offsets``.
    """
    if not places:
        return []
    centre = np.median(np.stack(places), axis=0)
    offsets = []
    for index, place in enumerate(places):
        offset = centre - place
        if np.linalg.norm(offset) > MAX_PLACE_SHIFT_M:
            offset = np.zeros(3)
        if mark == "slide" and index and glosses[index] == glosses[index - 1]:
            outward = -1.0 if signing_side == "right" else 1.0
            offset = offset + np.array([outward * DOUBLE_LETTER_SHIFT_M, 0.0, 0.0])
        offsets.append(offset)
    return offsets


def bounce_offsets(num_frames: int) -> np.ndarray:
    """(num_frames, 3) a dip of ``DOUBLE_LETTER_SHIFT_M`` and back (half a sine)."""
    phase = np.sin(np.linspace(0.0, np.pi, num_frames))
    return np.stack([np.zeros(num_frames), -DOUBLE_LETTER_SHIFT_M * phase,
                     np.zeros(num_frames)], axis=1)


#: Mean joint speed (rad/s) a generated transition keeps under: a transition is made
#: longer than its timing says when its largest joint turn needs it. 8.3 rad/s is the
#: 90th percentile of the per-frame fastest joint of the fitted letters of 5 languages
#: (157 clips, 6 Hz low-passed, 30 fps, as the largest axis-angle component; 99th:
#: 17.7): fist to flat hand (1.5 rad) then takes 0.18 s, not the 0.1 s of a
#: letter-to-letter transition.
MAX_TRANSITION_SPEED_RAD_S = 8.3


def transition_frames(before, after, minimum: int, fps: float) -> int:
    """Frames of a transition from 1-frame motion ``before`` to ``after``: at least
    ``minimum``, and enough that no joint turns faster than
    ``MAX_TRANSITION_SPEED_RAD_S`` on average."""
    change = float(joint_turns(before.full_pose()[0], after.full_pose()[0]).max())
    return max(minimum, int(np.ceil(change / MAX_TRANSITION_SPEED_RAD_S * fps)) - 1)


def joint_turns(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(J,) radians each joint turns from ``start`` to ``end`` ((J, 3) axis-angle)."""
    dots = np.abs(np.sum(axis_angle_to_quat_fast(start) * axis_angle_to_quat_fast(end), axis=-1))
    return 2 * np.arccos(np.clip(dots, 0.0, 1.0))


def _eased(count: int, lead: float = 1.0) -> np.ndarray:
    """(count,) smoothstep weights for the frames of a gap of ``count`` frames, reaching
    1 after ``lead`` of it (the frames either side of the gap are at 0 and 1)."""
    steps = np.clip(np.arange(1, count + 1) / ((count + 1) * lead), 0.0, 1.0)
    return steps * steps * (3 - 2 * steps)


def bridge(arrays: dict[str, np.ndarray], gap: tuple[int, int]) -> None:
    """Fill the frames ``gap`` of ``arrays`` (a motion's writable frame arrays) on the
    straight way from the frame before to the frame after: rotations by slerp, the
    rest linearly. A starting point for the learned in-betweener, which redraws the
    signing joints."""
    start, stop = gap
    if start < 1 or stop >= len(arrays["global_orient"]):
        return
    fractions = np.arange(1, stop - start + 1) / (stop - start + 1)
    for name, array in arrays.items():
        before, after = array[start - 1], array[stop]
        if name in ROTATION_FIELDS:
            quats = axis_angle_to_quat_fast(np.stack([before, after]))
            shape = (-1,) + (1,) * (before.ndim - 1)
            array[start:stop] = quat_to_axis_angle_fast(slerp_quaternions(
                quats[0][None], quats[1][None], fractions.reshape(shape)))
        else:
            array[start:stop] = before + (after - before) * fractions.reshape(
                (-1,) + (1,) * before.ndim)


def straighten(arrays: dict[str, np.ndarray], gap: tuple[int, int], sides, betas: np.ndarray,
               fps: float, rest_joints: np.ndarray, parents: np.ndarray) -> None:
    """Move the wrists of ``sides`` in the generated frames ``gap`` of ``arrays`` onto the
    straight line from the frame before the gap to the frame after it, eased in and out
    (``engine.body.reach.shift_wrist``: the hand keeps the orientation it has there).

    Why: turning every joint at once from the arm hanging to a sign in front of the
    chest swings the hand out sideways (13 cm off the line on ASL "my name"); a signer's
    hand rises straight to where it signs.
    """
    from engine.body.lbs import forward_kinematics
    from engine.body.reach import shift_wrist
    from engine.motion.motion import Motion

    start, stop = gap
    if stop - start < 1 or start < 1 or stop >= len(arrays["global_orient"]):
        return
    window = Motion(**{name: array[start - 1:stop + 1] for name, array in arrays.items()},
                    betas=betas, fps=fps)
    _, positions = forward_kinematics(window.full_pose(), rest_joints, parents)
    eased = _eased(stop - start)[:, None]
    for side in sides:
        wrist = positions[:, JOINT_INDEX[f"{side}_wrist"]].astype(np.float64)
        line = wrist[0] + (wrist[-1] - wrist[0]) * eased
        offsets = np.zeros((len(wrist), 3))
        offsets[1:-1] = line - wrist[1:-1]
        moved = shift_wrist(window, rest_joints, parents, side, offsets)
        arm = [JOINT_INDEX[f"{side}_{joint}"] - 1 for joint in ("shoulder", "elbow", "wrist")]
        arrays["body_pose"][start:stop, arm] = moved.body_pose[1:-1, arm]


def lead_hands(arrays: dict[str, np.ndarray], gap: tuple[int, int], sides) -> None:
    """Re-time the finger rotations of ``sides`` in the generated frames ``gap`` of
    ``arrays`` (a motion's writable frame arrays) so the next handshape is complete
    after ``HAND_LEAD`` of the gap: a smoothstep slerp from the frame before the gap to
    the frame after it. Gaps under 2 frames, or at the motion's ends,
    are left alone."""
    start, stop = gap
    if stop - start < 2 or start < 1 or stop >= len(arrays["global_orient"]):
        return
    eased = _eased(stop - start, HAND_LEAD)
    for side in sides:
        array = arrays[f"{side}_hand_pose"]
        array[start:stop] = slerp(array[start - 1], array[stop], eased)
