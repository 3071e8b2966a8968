"""Keeping the hands out of the body: a projection step for generated motion.

Generated transitions, KF2P results, handshape presets applied to a key and notation
signs can put a hand or its fingers into the head, neck or trunk (DGS H applied to a
key put the fingertips inside the neck). ``resolve_penetration`` measures, per frame,
how deep each hand's palm and finger capsules are inside the body's capsules
(``engine.body.capsules``) and moves that wrist out along the way out
(``engine.body.reach.shift_wrist``: the hand keeps its shape and orientation, the arm
makes room), and measures again until nothing is inside (a few passes).

Only frames that are inside move, each by its own depth: a hand whose path crosses the
body slides along its surface (the depth grows and shrinks continuously along a path,
so the push does too), and a hand that only touches the body where the sign asks for
contact is not moved at all. Where contacts are written (notation signs),
a hand that touches with one part while another is inside (a fingertip on the chest,
the thumb's base in it) turns about the touching part until the other is out, so the
contact stays. (An earlier version eased
each push over its neighbours; that moved the frames of a contact next to a rise that
crossed the chest, and a fingertip written on the sternum ended 9 cm in front of it.)

Forearms in assembled recordings (a letter signed close to the chest on a body
proportioned unlike the signer's) come out by ``keep_forearms_out``: the elbow alone
swings out, eased over the frames around, and the hand does not move at all.

The body capsules lie inside the skin (``engine.body.capsules``), so a touch is not a
penetration; a pushed hand ends ``MARGIN_M`` outside its capsule.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.capsules import penetration, rest_joints_for
from engine.body.lbs import forward_kinematics
from engine.body.reach import shift_wrist
from engine.body.skeleton import JOINT_INDEX
from engine.motion.motion import Motion

#: Metres a pushed hand ends outside the body capsule (a touch, not a gap).
MARGIN_M = 0.002
#: Depth (metres) counted as a penetration by ``count_penetrating_frames``.
COUNT_DEPTH_M = 0.005
#: Metres: a hand part this close to the body capsules (outside them; they lie inside
#: the skin, up to 3 cm under the sternum) while another part is inside counts as
#: touching the body, and the hand turns about it (see ``resolve_penetration``).
CONTACT_M = 0.03
#: A part counts as the touch to turn about only when it is at least this much (metres)
#: less deep than the deepest part.
LESS_DEEP_M = 0.01
#: A touch nearer than this (metres, across the push) to the part that is inside gives
#: no leverage to turn about: the hand is pushed out instead.
MIN_LEVER_M = 0.02
#: Radians: a hand that would have to turn further than this about its touch to come
#: out is not touching but inside, and is pushed out instead.
MAX_TURN_RAD = 0.6
#: Passes of measure-and-push: each pass fixes what the last one's smoothing diluted.
MAX_PASSES = 6


def _hand_capsules(names: tuple[str, ...], side: str) -> np.ndarray:
    """Indices of ``side``'s palm and finger capsules (not the forearm)."""
    return np.array([i for i, name in enumerate(names)
                     if name.startswith(f"{side}_") and not name.endswith("forearm")], np.intp)


#: The least share of a forearm's length from the elbow counted for its deepest point.
MIN_FOREARM_SHARE = 0.3


def _share_from_elbow(found, side: str, forearm: int) -> np.ndarray:
    """(F,) where the forearm's deepest point lies between elbow (0) and wrist (1)."""
    elbow = found.joints[:, JOINT_INDEX[f"{side}_elbow"]]
    wrist = found.joints[:, JOINT_INDEX[f"{side}_wrist"]]
    along = wrist - elbow
    share = np.einsum("fk,fk->f", found.point[:, forearm] - elbow, along) / np.maximum(
        np.einsum("fk,fk->f", along, along), 1e-12)
    return np.clip(share, MIN_FOREARM_SHARE, 1.0)


#: Radians the elbow may swivel in one pass to take the forearm out of the body.
MAX_SWIVEL_RAD = 0.5


def _elbow_swivels(found, side: str, allowed: np.ndarray, budget: np.ndarray,
                   tolerated: np.ndarray | float = 0.0,
                   deeper_than: float = 0.0) -> np.ndarray:
    """(F,) radians that swivel ``side``'s elbow about the shoulder-to-wrist line so its
    forearm comes out of the body (0 where it is out, or the line gives no leverage).
    The hand stays where it is, so a written contact holds while the elbow makes room
    (pushing the wrist out took a palm off the chest it was written on). A swivel moves
    the forearm's deepest point no further than ``budget`` (F,) metres, and takes it to
    ``MARGIN_M`` short of ``tolerated`` (F,) metres inside; only frames more than
    ``deeper_than`` metres past ``tolerated`` swivel."""
    forearm = found.limb_names.index(f"{side}_forearm")
    depth = found.depth[:, forearm] - tolerated
    inside = (depth > deeper_than) & allowed
    swivels = np.zeros(len(depth))
    if not inside.any():
        return swivels
    shoulder = found.joints[:, JOINT_INDEX[f"{side}_shoulder"]]
    line = found.joints[:, JOINT_INDEX[f"{side}_wrist"]] - shoulder
    line /= np.maximum(np.linalg.norm(line, axis=1, keepdims=True), 1e-12)
    # A small swivel moves the point by angle * (line x radius): its share along the way out.
    lever = np.einsum("fk,fk->f", np.cross(line, found.point[:, forearm] - shoulder),
                      found.normal[:, forearm])
    usable = inside & (np.abs(lever) > MIN_LEVER_M)
    wanted = np.minimum(depth + MARGIN_M, budget) / np.where(usable, lever, 1.0)
    swivels[usable] = np.clip(wanted, -MAX_SWIVEL_RAD, MAX_SWIVEL_RAD)[usable]
    return swivels


def _deepest_part(found, hands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(deepest (F,) index into ``hands``, amount (F,) metres it is inside) per frame."""
    depth = found.depth[:, hands]
    deepest = depth.argmax(axis=1)
    return deepest, depth[np.arange(len(depth)), deepest]


def hand_depths(body, motion: Motion) -> np.ndarray:
    """(F, 2) metres the deepest palm or finger capsule of each hand (left, right) is
    inside the head, neck or trunk (<= 0: outside)."""
    found = penetration(body, motion)
    return np.stack([found.depth[:, _hand_capsules(found.limb_names, side)].max(axis=1)
                     for side in ("left", "right")], axis=1)


def count_penetrating_frames(body, motion: Motion, depth: float = COUNT_DEPTH_M) -> int:
    """Frames in which a hand or finger is more than ``depth`` metres inside the body."""
    return int(np.count_nonzero((hand_depths(body, motion) > depth).any(axis=1)))


#: Metres a push may grow per frame of distance from a frame that cannot change.
RAMP_M_PER_FRAME = 0.01
#: Frames measured and pushed at a time: each frame needs ~30 kB of capsule geometry,
#: and frames do not depend on each other.
BLOCK_FRAMES = 2000


def frames_from_fixed(changeable: np.ndarray, fixed_ends: bool) -> np.ndarray:
    """(F,) frames from each frame to the nearest one that may not change (``changeable``
    (F,) False; with ``fixed_ends``, also the frames just before and after), inf when
    there is none: how far a change may have grown, eased in from those frames."""
    frames = len(changeable)
    anchors = np.flatnonzero(~np.asarray(changeable, bool))
    if fixed_ends:
        anchors = np.concatenate([[-1], anchors, [frames]])
    if not len(anchors):
        return np.full(frames, np.inf)
    index = np.arange(frames)
    after = np.clip(np.searchsorted(anchors, index), 0, len(anchors) - 1)
    before = np.clip(after - 1, 0, len(anchors) - 1)
    return np.minimum(np.abs(index - anchors[after]), np.abs(index - anchors[before])).astype(float)


def resolve_penetration(motion: Motion, body=None, changeable: np.ndarray | None = None,
                        turn_about_touches: bool = False, fixed_ends: bool = False, *,
                        progress=None, cancel=None) -> Motion:
    """``motion`` with each hand moved out of the head, neck and trunk.

    ``changeable``: (F,) bool, the frames that may change (default all): a KF2P range
    without its keyframes, say. Frames that need no push, or may not change, are kept
    bit for bit. ``body``: the body measured on (default: the embedded avatar).
    ``turn_about_touches``: (written postures) the forearms are kept out too, and a
    hand that touches the body with one part while another is
    inside turns about the touch (for postures whose contacts are written, as in
    notation signs); otherwise it is pushed out, keeping its orientation.
    ``fixed_ends``: the frames just before and after ``motion`` cannot change either (a
    KF2P range inside a longer motion). Next to a frame that cannot change, a push is
    limited to ``RAMP_M_PER_FRAME`` per frame of distance from it, so a hand left
    inside at a keyframe is eased back to, not jumped to. A long motion is done
    ``BLOCK_FRAMES`` at a time: ``progress(done, total, message)`` is told after each
    block and ``cancel.raise_if_cancelled()`` checked before each, when given.
    """
    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    if motion.num_frames > BLOCK_FRAMES:
        blocks = []
        for low in range(0, motion.num_frames, BLOCK_FRAMES):
            if cancel is not None:
                cancel.raise_if_cancelled()
            high = min(low + BLOCK_FRAMES, motion.num_frames)
            blocks.append(resolve_penetration(
                motion.slice(low, high), body,
                None if changeable is None else np.asarray(changeable, bool)[low:high],
                turn_about_touches, fixed_ends))
            if progress is not None:
                progress(high, motion.num_frames, f"keeping the hands out: frame {high}")
        return Motion.concatenate(blocks)
    frames = motion.num_frames
    allowed = np.ones(frames, bool) if changeable is None else np.asarray(changeable, bool)
    rest_joints = rest_joints_for(body, motion.betas)
    reach = RAMP_M_PER_FRAME * frames_from_fixed(allowed, fixed_ends)
    parents = np.asarray(body.parents)
    budget = {side: reach.copy() for side in ("left", "right")}  # metres each may still go
    for _ in range(MAX_PASSES):
        found = penetration(body, motion)
        moved = False
        for side in ("left", "right"):
            hands = _hand_capsules(found.limb_names, side)
            if turn_about_touches:
                # Where contacts are written, the wrist end of the forearm goes with the
                # hand: a hand touching the body with its wrist dipping in turns about
                # the touch and lifts it. (Elsewhere a push of the whole hand by the
                # forearm's depth would take a recorded touch off the body.)
                hands = np.append(hands, found.limb_names.index(f"{side}_wrist_forearm"))
            depth = found.depth[:, hands]
            deepest, amount = _deepest_part(found, hands)
            rows = np.arange(frames)
            direction = found.normal[rows, hands[deepest]]
            swivels = np.zeros(frames)
            if turn_about_touches:
                # Written postures only: the elbow makes room for a forearm in the trunk.
                # (In KF2P results and recordings, moving an arm the user did not pin
                # broke KF2P's contract: free channels hold, no jump at the borders.)
                swivels = _elbow_swivels(found, side, allowed, budget[side])
                # A forearm inside near its wrist end (where a swivel has no leverage),
                # its hand off the body: the wrist goes out, by as much more as the
                # deepest point is nearer the elbow, which stays.
                forearm = found.limb_names.index(f"{side}_wrist_forearm")
                reach_in = found.depth[:, forearm] / _share_from_elbow(found, side, forearm)
                by_forearm = ((found.depth[:, forearm] > 0) & (reach_in > amount)
                              & (amount < -CONTACT_M) & (swivels == 0))
                amount = np.where(by_forearm, reach_in, amount)
                direction = np.where(by_forearm[:, None], found.normal[:, forearm], direction)
            inside = (amount > 0) & allowed
            changed = inside | (swivels != 0)
            if not changed.any():
                continue
            step = np.minimum(amount + MARGIN_M, budget[side])
            budget[side] -= np.where(inside, step, 0.0)
            push = np.where(inside[:, None], direction * step[:, None], 0.0)
            turns = np.zeros((frames, 3))
            wrist = found.joints[:, JOINT_INDEX[f"{side}_wrist"]]
            # A hand whose other part touches the body (a written contact: a fingertip
            # on the chest while the thumb's base goes in) turns about that touch
            # instead of leaving it: the touching point stays where it is.
            # (touching: near the surface, or just inside it and well less deep than the
            # deepest part; the next pass pushes what is left of it out)
            touching = ((depth >= -CONTACT_M) & (depth <= amount[:, None] - LESS_DEEP_M)
                        & turn_about_touches)
            lever_length = np.zeros(frames)
            for frame in np.flatnonzero(inside & touching.any(axis=1)):
                candidates = np.flatnonzero(touching[frame])
                deep_point = found.point[frame, hands[deepest[frame]]]
                levers = deep_point - found.point[frame, hands[candidates]]
                far = candidates[np.argmax(np.linalg.norm(levers, axis=1))]
                pivot = found.point[frame, hands[far]]
                lever = deep_point - pivot
                axis = np.cross(lever, direction[frame])
                lever_length[frame] = np.linalg.norm(axis)
                angle = (amount[frame] + MARGIN_M) / max(lever_length[frame], 1e-9)
                if lever_length[frame] < MIN_LEVER_M or angle > MAX_TURN_RAD:
                    continue  # no leverage, or deep in: not a touch, pushed out instead
                turn = Rotation.from_rotvec(axis / lever_length[frame] * angle)
                turns[frame] = turn.as_rotvec()
                push[frame] = pivot + turn.apply(wrist[frame] - pivot) - wrist[frame]
            shifted = shift_wrist(motion, rest_joints, parents, side, push, turns, swivels)
            body_pose = motion.body_pose.copy()
            body_pose[changed] = shifted.body_pose[changed]
            motion = motion.replace(body_pose=body_pose)
            moved = True
        if not moved:
            break
    return motion


#: The furthest an elbow swivels to keep its forearm out (radians): past it the arm
#: reads as a wing, and what is left inside stays.
MAX_TOTAL_SWIVEL_RAD = 0.6
#: How fast a swivel comes and goes (radians a second), so the elbow eases out before
#: the forearm would go in and back after.
SWIVEL_RATE_RAD_S = 3.0


def eased_swivels(needed: np.ndarray, per_frame: float) -> np.ndarray:
    """(F,) swivels changing by at most ``per_frame`` radians a frame, at least as large
    as ``needed`` (F,) wherever that turns the way its stretch does: each frame takes the
    largest of its neighbours' needs less ``per_frame`` per frame between them. Needs
    closer together than their ramps form one stretch that turns one way, the way most
    of its need is (the way out can flip from one frame to the next where the forearm
    crosses the shoulder-to-wrist line; following it swung the elbow across in a frame);
    frames needing the other way get none."""
    eased = np.zeros(len(needed))
    reach = min(int(np.ceil(np.abs(needed).max(initial=0.0) / per_frame)), len(needed) - 1)
    needed = np.array(needed, np.float64)
    frames = np.flatnonzero(needed)
    for stretch in np.split(frames, np.flatnonzero(np.diff(frames) > 2 * reach) + 1):
        if len(stretch):
            way = np.sign(needed[stretch].sum()) or 1.0
            needed[stretch] = np.where(np.sign(needed[stretch]) == way, needed[stretch], 0.0)
    for offset in range(-reach, reach + 1):
        shifted = np.zeros(len(needed))
        low, high = max(0, offset), min(len(needed), len(needed) + offset)
        shifted[low:high] = needed[low - offset:high - offset]
        candidate = np.sign(shifted) * np.maximum(np.abs(shifted) - per_frame * abs(offset), 0)
        eased = np.where(np.abs(candidate) > np.abs(eased), candidate, eased)
    return eased


def keep_forearms_out(motion: Motion, body=None, passes: int = 3, *,
                      changeable: np.ndarray | None = None, fixed_ends: bool = False,
                      tolerated: np.ndarray | None = None) -> Motion:
    """``motion`` with each forearm taken out of the head, neck and trunk by swivelling
    its elbow about the shoulder-to-wrist line: the hands stay exactly where they are
    (a recorded letter's hand is its meaning). The swivel each frame needs (measured
    again after each of ``passes``, at most ``MAX_TOTAL_SWIVEL_RAD``) is eased in and
    out at ``SWIVEL_RATE_RAD_S`` (``eased_swivels``), so the elbow moves smoothly; a
    per-frame swivel jumped the elbow by up to 40 cm between frames. Frames no swivel
    reaches are kept bit for bit.

    For a KF2P range: ``changeable`` (F,) bool, the frames that may change; with
    ``fixed_ends`` the frames just outside cannot either. A swivel grows from those
    frames at the same rate, so the elbow leaves a key, or the range's border, without
    a jump. ``tolerated`` (F, 2) metres each forearm (left, right) may stay inside: what
    the motion around already had, so only what a generator put in is taken out."""
    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    frames = motion.num_frames
    per_frame = SWIVEL_RATE_RAD_S / motion.fps
    allowed = np.ones(frames, bool) if changeable is None else np.asarray(changeable, bool)
    limit = per_frame * frames_from_fixed(allowed, fixed_ends)
    tolerated = np.zeros((frames, 2)) if tolerated is None else np.asarray(tolerated)
    rest_joints = rest_joints_for(body, motion.betas)
    parents = np.asarray(body.parents)
    still = np.zeros((frames, 3))
    unbounded = np.full(frames, np.inf)
    forearms = ("left_forearm", "right_forearm")
    # one measure for both sides (most motions need none), of the forearms alone
    first = penetration(body, motion, limbs=forearms)
    for column, side in enumerate(("left", "right")):
        total = np.zeros(frames)
        found, chosen, deeper_than = first, allowed, COUNT_DEPTH_M
        for _ in range(passes):
            # The first pass takes only what the count would see (a forearm grazing the
            # capsule is left alone); later passes finish those frames.
            needed = _elbow_swivels(found, side, chosen, unbounded, tolerated[:, column],
                                    deeper_than)
            if not needed.any():
                break
            if deeper_than:
                chosen, deeper_than = chosen & (needed != 0), 0.0
            total = np.clip(total + needed, -MAX_TOTAL_SWIVEL_RAD, MAX_TOTAL_SWIVEL_RAD)
            found = penetration(body, shift_wrist(motion, rest_joints, parents, side, still,
                                                  swivels=total), limbs=forearms)
        if not total.any():
            continue
        swivels = eased_swivels(total, per_frame)
        swivels = np.sign(swivels) * np.minimum(np.abs(swivels), limit)
        changed = swivels != 0
        shifted = shift_wrist(motion, rest_joints, parents, side, still, swivels=swivels)
        body_pose = motion.body_pose.copy()
        body_pose[changed] = shifted.body_pose[changed]
        motion = motion.replace(body_pose=body_pose)
    return motion


def swing_out(motion: Motion, body, passes: int = 3) -> Motion:
    """``motion`` with each hand still inside the body turned out about its shoulder:
    the shoulder alone turns, so the elbow and wrist keep their angles (for a wrist
    ``resolve_penetration`` could not use because it is at its limit, where keeping
    the hand's orientation would bend it further); the hand's orientation turns by the
    same few degrees. Frames with nothing inside are kept bit for bit."""
    rest_joints = rest_joints_for(body, motion.betas)
    for _ in range(passes):
        found = penetration(body, motion)
        if not (found.depth > 0).any():
            break
        rotations, _ = forward_kinematics(motion.full_pose(), rest_joints, np.asarray(body.parents))
        body_pose = motion.body_pose.copy()
        moved = False
        for side in ("left", "right"):
            hands = _hand_capsules(found.limb_names, side)
            deepest, amount = _deepest_part(found, hands)
            inside = np.flatnonzero(amount > 0)
            if not len(inside):
                continue
            shoulder = JOINT_INDEX[f"{side}_shoulder"]
            collar = JOINT_INDEX[f"{side}_collar"]
            point = found.point[inside, hands[deepest[inside]]]
            normal = found.normal[inside, hands[deepest[inside]]]
            radius = point - found.joints[inside, shoulder]
            axis = np.cross(radius, normal)
            lever = np.linalg.norm(axis, axis=1)
            usable = lever > MIN_LEVER_M
            angle = (amount[inside] + MARGIN_M) / np.maximum(lever, 1e-9)
            turn = Rotation.from_rotvec(np.where(usable[:, None], axis / np.maximum(
                lever, 1e-9)[:, None] * np.minimum(angle, MAX_TURN_RAD)[:, None], 0.0))
            world = turn.as_matrix() @ rotations[inside, shoulder].astype(np.float64)
            local = np.transpose(rotations[inside, collar], (0, 2, 1)).astype(np.float64) @ world
            body_pose[inside, shoulder - 1] = Rotation.from_matrix(local).as_rotvec()
            moved = True
        if not moved:
            break
        motion = motion.replace(body_pose=body_pose)
    return motion
