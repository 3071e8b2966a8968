"""Phases to frames: each phase sampled per frame (eased), every frame's wrist through
the arm IK, and the result as a ``Motion`` between the rest pose at both ends."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from engine.body.reference_poses import ARM_DOWN_RADIANS, arms_down, mirror_hand_pose
from engine.body.hands_apart import keep_hands_apart
from engine.body.penetration import resolve_penetration, swing_out
from engine.body.skeleton import JOINT_INDEX
from engine.motion.motion import Motion
from engine.notation.anchors import BodyAnchors
from engine.notation.phases import HandState, NotationTiming, Phase, Track
from engine.notation.placement import WRIST_LIMIT, ArmSolver


@dataclass(frozen=True)
class SignMotion:
    """A synthesised sign: ``motion`` (rest -> sign -> rest), ``key_frames``, the
    frame of every posture (the rest frames at both ends included), and
    ``hands_together`` (F,) bool, the frames whose hands the notation puts against each
    other (where they may overlap: ``engine.body.hands_apart``)."""

    motion: Motion
    key_frames: tuple[int, ...]
    text: str
    hands_together: np.ndarray | None = None


def _smooth(s: np.ndarray) -> np.ndarray:
    return s * s * (3 - 2 * s)


def _ease(s: np.ndarray, ease: bool | str) -> np.ndarray:
    """Progress along a phase: eased in and out (True), even (False), or eased in and
    stopped short ("halt": the movement is fastest where it ends)."""
    if ease == "halt":
        return s * s
    return _smooth(s) if ease else s


def sample_phase(phase: Phase, side: str, fallback: HandState
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions (F, 3), rotations (F, 3, 3), fingers (F, 15, 3)) of one phase, frames
    after its start up to and including its end."""
    track = phase.tracks.get(side, Track(fallback, fallback))
    s = np.arange(1, phase.frames + 1, dtype=np.float64) / phase.frames
    eased = _ease(s, phase.ease)
    positions = (1 - eased)[:, None] * track.start.position + eased[:, None] * track.end.position
    if track.offset is not None:
        positions = positions + track.offset(eased)
    rotations = Slerp([0.0, 1.0], Rotation.from_matrix(
        np.stack([track.start.rotation, track.end.rotation])))(eased).as_matrix()
    start_q = Rotation.from_rotvec(track.start.fingers)
    delta = (start_q.inv() * Rotation.from_rotvec(track.end.fingers)).as_rotvec()
    fingers = np.stack([(start_q * Rotation.from_rotvec(delta * e)).as_rotvec()
                        for e in eased]) if not np.allclose(delta, 0) else \
        np.repeat(track.start.fingers[None], len(s), 0)
    if track.local is not None:
        rotations, fingers = track.local(s, rotations, fingers)
    return positions, np.asarray(rotations), np.asarray(fingers)


def _body_index(joint: str) -> int:
    return JOINT_INDEX[joint] - 1


def rest_states(body) -> dict[str, HandState]:
    """Each hand as it hangs at rest (``_rest_like``): where a sign rises from and
    relaxes to, and where a hand first used in a compound's later part waits."""
    rest = _rest_like(Motion.zeros(1))
    out = body.forward(rest)
    states = {}
    for side in ("left", "right"):
        wrist = JOINT_INDEX[f"{side}_wrist"]
        states[side] = HandState(np.asarray(out.joints[0, wrist], np.float64),
                                 np.asarray(out.joint_rotations[0, wrist], np.float64),
                                 np.asarray(getattr(rest, f"{side}_hand_pose")[0], np.float64),
                                 None)
    return states


def motion_from_phases(phases: list[Phase], text: str, body, timing: NotationTiming,
                       anchors: BodyAnchors, rest: dict[str, HandState]) -> SignMotion:
    sides = sorted({side for phase in phases for side in phase.tracks})
    tracks: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {s: [] for s in sides}
    key_frames = []
    current = {s: rest[s] for s in sides}  # every sign starts at rest
    # the first posture itself
    for side in sides:
        state = current[side]
        tracks[side].append((state.position[None], state.rotation[None], state.fingers[None]))
    count = 1
    key_frames.append(0)
    together = [False]
    head = [np.zeros((1, 3))]
    head_now = np.zeros(3)
    for phase in phases:
        was_together = _together(current)
        for side in sides:
            sampled = sample_phase(phase, side, current[side])
            tracks[side].append(sampled)
            if side in phase.tracks:
                current[side] = phase.tracks[side].end
        # Together through the phase when together at both ends, else at its end only.
        now_together = _together(current)
        together.extend([was_together and now_together] * (phase.frames - 1) + [now_together])
        if phase.head is not None:
            s = _smooth(np.arange(1, phase.frames + 1) / phase.frames)[:, None]
            head.append((1 - s) * phase.head[0] + s * phase.head[1])
            head_now = phase.head[1]
        else:
            head.append(np.repeat(head_now[None], phase.frames, 0))
        count += phase.frames
        key_frames.append(count - 1)
    solver = ArmSolver(body.rest_joints, anchors.torso)
    num = count
    body_pose = np.zeros((num, 21, 3))
    head_turn = np.concatenate(head)
    # The neck takes a third of a head movement, the head the rest.
    body_pose[:, _body_index("neck")] = head_turn / 3
    body_pose[:, _body_index("head")] = head_turn * 2 / 3
    hands = {"left": np.zeros((num, 15, 3)), "right": np.zeros((num, 15, 3))}
    for side in ("left", "right"):
        if side not in sides:  # not signing: hangs at rest
            body_pose[:, _body_index(f"{side}_shoulder"), 2] = \
                ARM_DOWN_RADIANS * (1 if side == "right" else -1)
            hands[side] = np.repeat(rest[side].fingers[None], num, 0)
            continue
        positions = np.concatenate([t[0] for t in tracks[side]])
        rotations = np.concatenate([t[1] for t in tracks[side]])
        fingers = np.concatenate([t[2] for t in tracks[side]])
        arm, _ = solver.solve(side, positions, rotations)
        body_pose[:, _body_index(f"{side}_shoulder")] = arm.shoulder
        body_pose[:, _body_index(f"{side}_elbow")] = arm.elbow
        body_pose[:, _body_index(f"{side}_wrist")] = arm.wrist
        hands[side] = fingers
    signing = Motion.zeros(num, fps=timing.fps).replace(
        body_pose=body_pose.astype(np.float32),
        left_hand_pose=hands["left"].astype(np.float32),
        right_hand_pose=hands["right"].astype(np.float32))
    # A posture placed by the wrist can still put fingers or the palm into the body
    # (1,343 DSGS signs: 7,160 of 98,565 frames more than 5 mm inside): out they go, a
    # written contact left on the surface.
    # The arm that made room may not fold a wrist past its limit either; a wrist held
    # back at its limit can leave the hand in again, so out once more (keeping the
    # hand's orientation, which a wrist within its limit allows).
    # The two hands are kept out of each other too, except where they are written
    # together. The two steps push against each other where both hands are written at
    # one body site, so they take turns: four turns left 59 frames of the arms in each
    # other on 380 DSGS signs, three left 77 (five: 56), the hands out of the body in
    # each case, for 3 % more time.
    hands_together = np.array(together)
    for turn in (True, False, False, False):
        if len(sides) == 2:
            signing = keep_hands_apart(signing, body, hands_together)
        signing = _within_wrist_limits(
            resolve_penetration(signing, body, turn_about_touches=turn), sides)
    # What a wrist at its limit left inside: the arm turns out at the shoulder.
    signing = swing_out(signing, body)
    return SignMotion(signing, tuple(key_frames), text, hands_together)


def _together(states: dict[str, HandState]) -> bool:
    """Whether the dominant hand is placed against the other one."""
    return "left" in states and states["right"].against_other


def _within_wrist_limits(motion: Motion, sides) -> Motion:
    """``motion`` with the wrists of ``sides`` turned back to ``WRIST_LIMIT``."""
    body_pose = motion.body_pose.copy()
    for side in sides:
        wrist = body_pose[:, _body_index(f"{side}_wrist")]
        bent = np.linalg.norm(wrist, axis=1, keepdims=True)
        wrist *= np.minimum(1.0, WRIST_LIMIT / np.maximum(bent, 1e-9))
    return motion.replace(body_pose=body_pose)


def _rest_like(frame: Motion) -> Motion:
    """Both arms down and the fingers relaxed (a little curled): where a sign starts
    and ends."""
    relaxed = np.zeros((1, 15, 3), np.float32)
    for finger in range(4):
        relaxed[0, 3 * finger:3 * finger + 3, 2] = (0.25, 0.2, 0.1)
    return arms_down(frame).replace(right_hand_pose=relaxed,
                                    left_hand_pose=mirror_hand_pose(relaxed))
