"""What MediaPipe reads in rendered hands whose finger angles are known: the hand
reader's training data (``engine.data.fit.hand_reader``).

Each sample poses the avatar in a lexicon letter's steadiest frame with the fingers of
another letter (half of them blended with a third letter's), jitters every finger angle
and the wrist, renders it from the front and reads the right hand with MediaPipe
Holistic. The reader learns from these how MediaPipe misreads a hand (a fist as a
half-curl), which the 2D points alone cannot undo. Each render is read as a still
image (``static_image_mode``); a video import tracks from frame to frame instead (the
known-truth benches read videos, so they score the reader on tracked readings).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from engine.jobs import CancelToken, Progress, no_progress

#: Render size: MediaPipe finds the signing hand on nearly every 640x640 front render.
RENDER_SIZE = 640


@dataclass(frozen=True)
class HandReadings:
    """``points`` (N, 21, 3): MediaPipe's right hand, image-style (x right and y down
    in pixels, z as MediaPipe gives it, scaled like x); ``poses`` (N, 15, 3): the
    right-hand finger axis-angles rendered (radians; hands MediaPipe missed are left
    out); ``entries``: the lexicon entries the renders' letters were drawn from."""

    points: np.ndarray
    poses: np.ndarray
    entries: tuple[int, ...]

    def keypoint_frame(self) -> np.ndarray:
        """(N, 21, 3) the points with y and z pointing up and toward the camera, as a
        ``KeypointSequence`` holds them."""
        return self.points * np.array([1.0, -1.0, -1.0])


def letter_frames(store, avatar, languages):
    """[(entry id, one-frame Motion)]: the steadiest frame of each letter's first entry
    (in the order of ``store.list``) of each language."""
    from engine.body.tips import hand_points
    from engine.generate.image_match import steadiest_frame

    frames = []
    for language in languages:
        seen = set()
        for summary in store.list(language):
            if summary.kind != "letter" or summary.gloss in seen:
                continue
            seen.add(summary.gloss)
            motion = store.get(summary.id).motion
            frames.append((summary.id, motion.frame(
                steadiest_frame(hand_points(avatar, motion, "right")))))
    return frames


def inventory_hand_poses(avatar) -> list[np.ndarray]:
    """(15, 3) right-hand poses of the notation's handshape inventory on ``avatar``:
    every base form, alone and with each bending and thumb modifier it takes, and the
    one-finger forms with each other finger selected (the little finger of ASL I)."""
    from engine.notation.hamnosys import Handshape
    from engine.notation.handshapes import BASE_FORMS, BENDINGS, UnsupportedHandshape, hand_pose

    shapes = []
    for base in BASE_FORMS:
        selections = [()] + ([(f,) for f in ("middlefinger", "ringfinger", "pinky", "thumb")]
                             if base == "finger2" else [])
        for selection in selections:
            for bending in (None, *BENDINGS):
                for thumb in (None, "thumboutmod", "thumbacrossmod", "thumbopenmod"):
                    modifiers = tuple(m for m in (thumb, bending) if m) + selection
                    shapes.append(Handshape(base, modifiers))
    poses, seen = [], set()
    for shape in shapes:
        try:
            pose = hand_pose(shape, "right", avatar)
        except UnsupportedHandshape:
            continue
        key = np.round(pose, 3).tobytes()
        if key not in seen:
            seen.add(key)
            poses.append(np.asarray(pose, np.float64))
    return poses


def render_hand_readings(store, languages, renders: int, *, seed: int = 1,
                         finger_jitter: float = 0.12, wrist_jitter: float = 0.25,
                         blend_share: float = 0.5, inventory_share: float = 0.0,
                         progress: Progress = no_progress,
                         cancel: CancelToken | None = None) -> HandReadings:
    """``renders`` renders of the default avatar in mixed, jittered letters of
    ``languages`` (see the module docstring), read by MediaPipe.

    ``finger_jitter`` / ``wrist_jitter``: standard deviations (radians) added to every
    finger angle / the right wrist's; ``blend_share``: the share of samples whose
    fingers are blended with a third letter's; ``inventory_share``: the share whose
    fingers are a handshape of the notation's inventory (``inventory_hand_poses``)
    instead of a letter's. Raises ValueError when the lexicon has no letters of
    ``languages``; ``Cancelled`` when cancelled.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from engine.body.default_avatar import default_avatar
    from engine.body.skeleton import JOINT_INDEX
    from engine.export.render import OffscreenRenderer

    avatar = default_avatar()
    frames = letter_frames(store, avatar, languages)
    if not frames:
        raise ValueError(f"{store.path}: the lexicon has no letters of {', '.join(languages)}")
    bases = [motion for _, motion in frames]
    inventory = inventory_hand_poses(avatar) if inventory_share else []
    rng = np.random.default_rng(seed)
    wrist = JOINT_INDEX["right_wrist"] - 1  # body_pose leaves out the pelvis
    points, poses = [], []
    with mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1) as holistic, \
            OffscreenRenderer(avatar, RENDER_SIZE, RENDER_SIZE) as renderer:
        for number in range(renders):
            if cancel is not None:
                cancel.raise_if_cancelled()
            arm = bases[rng.integers(len(bases))]
            fingers = bases[rng.integers(len(bases))].right_hand_pose[0].astype(np.float64)
            # Drawn only when asked, so the readings without it stay as they were.
            if inventory_share and rng.random() < inventory_share:
                fingers = inventory[rng.integers(len(inventory))]
            if rng.random() < blend_share:
                share = rng.random()
                fingers = ((1 - share) * fingers
                           + share * bases[rng.integers(len(bases))].right_hand_pose[0])
            fingers = fingers + rng.normal(0, finger_jitter, fingers.shape)
            body = arm.body_pose[0].astype(np.float64)
            body[wrist] += rng.normal(0, wrist_jitter, 3)
            motion = arm.replace(body_pose=body[None].astype(np.float32),
                                 right_hand_pose=fingers[None].astype(np.float32))
            posed = avatar.forward(motion)
            renderer.set_camera("front", posed.joints)
            image = renderer.render(posed.vertices[0])
            found = holistic.process(np.ascontiguousarray(image[..., :3])).right_hand_landmarks
            if found is not None:
                height, width = image.shape[:2]
                points.append([[m.x * width, m.y * height, m.z * width] for m in found.landmark])
                poses.append(fingers)
            if (number + 1) % 50 == 0 or number + 1 == renders:
                progress(number + 1, renders, f"rendered and read {number + 1} hands "
                                              f"({len(points)} found)")
    return HandReadings(points=np.array(points, np.float64).reshape(-1, 21, 3),
                        poses=np.array(poses, np.float32).reshape(-1, 15, 3),
                        entries=tuple(entry for entry, _ in frames))
