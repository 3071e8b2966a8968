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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.jobs import Cancelled, CancelToken, Progress, no_progress

#: Render size: MediaPipe finds the signing hand on nearly every 640x640 front render.
RENDER_SIZE = 640


#: Renders between two saves of the readings so far (``render_hand_readings(save=)``):
#: about half a minute of rendering on two cores.
SAVE_EVERY = 250
#: Changed whenever the drawing or the rendering changes, so that saved readings made
#: the old way are not continued the new way.
READINGS_VERSION = "2026-12-05"


@dataclass(frozen=True)
class HandReadings:
    """``points`` (N, 21, 3): MediaPipe's right hand, image-style (x right and y down
    in pixels, z as MediaPipe gives it, scaled like x); ``poses`` (N, 15, 3): the
    right-hand finger axis-angles rendered (radians; hands MediaPipe missed are left
    out); ``entries``: the lexicon entries the renders' letters were drawn from;
    ``rendered``: how many renders were made (found or not; fewer than asked for when
    the rendering was cancelled); ``key``: what they were drawn from and how
    (``readings_key``), so a saved part is continued only by the same rendering."""

    points: np.ndarray
    poses: np.ndarray
    entries: tuple[int, ...]
    rendered: int = 0
    key: str = ""

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


def save_readings(path, readings: HandReadings) -> None:
    """Write ``readings`` to ``path`` (.npz) atomically: a cancelled or killed run
    leaves the last complete save."""
    from engine.atomic import atomic_output

    with atomic_output(path) as temp, open(temp, "wb") as handle:
        np.savez(handle, points=readings.points, poses=readings.poses,
                 entries=np.array(readings.entries, np.int64),
                 rendered=np.int64(readings.rendered), key=np.str_(readings.key))


def load_readings(path) -> HandReadings:
    """The readings ``save_readings`` wrote to ``path``. ValueError naming the file when
    it is not such a file."""
    import zipfile

    def damaged(why: str) -> ValueError:
        return ValueError(f"{path}: not the saved readings of a hand reader's training "
                          f"({why}); remove it to render them again")

    try:
        with np.load(path, allow_pickle=False) as saved:
            readings = HandReadings(
                points=np.asarray(saved["points"], np.float64),
                poses=np.asarray(saved["poses"], np.float32),
                entries=tuple(int(e) for e in saved["entries"]),
                rendered=int(saved["rendered"]), key=str(saved["key"]))
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as error:
        raise damaged(type(error).__name__) from None
    if readings.points.ndim != 3 or readings.points.shape[1:] != (21, 3) \
            or readings.poses.shape != (len(readings.points), 15, 3):
        raise damaged(f"points {readings.points.shape} and poses {readings.poses.shape}; "
                      "expected (N, 21, 3) and (N, 15, 3)")
    if not 0 <= len(readings.points) <= readings.rendered:
        raise damaged(f"{len(readings.points)} hands found in {readings.rendered} renders")
    return readings


def readings_key(frames, renders: int, **settings) -> str:
    """A digest of everything the readings depend on: the letters' frames (entry ids
    and angles), how many renders (a continued run with more renders starts over), the
    drawing settings, the render size, ``READINGS_VERSION`` and MediaPipe's version."""
    import hashlib

    import mediapipe as mp

    digest = hashlib.sha256()
    for entry, motion in frames:
        digest.update(str(entry).encode())
        digest.update(np.ascontiguousarray(motion.body_pose, np.float32).tobytes())
        digest.update(np.ascontiguousarray(motion.right_hand_pose, np.float32).tobytes())
    digest.update(repr((renders, sorted(settings.items()), RENDER_SIZE, READINGS_VERSION,
                        mp.__version__)).encode())
    return digest.hexdigest()


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
                         start: HandReadings | None = None,
                         save: Callable[[HandReadings], None] | None = None,
                         progress: Progress = no_progress,
                         cancel: CancelToken | None = None) -> HandReadings:
    """``renders`` renders of the default avatar in mixed, jittered letters of
    ``languages`` (see the module docstring), read by MediaPipe.

    ``finger_jitter`` / ``wrist_jitter``: standard deviations (radians) added to every
    finger angle / the right wrist's; ``blend_share``: the share of samples whose
    fingers are blended with a third letter's; ``inventory_share``: the share whose
    fingers are a handshape of the notation's inventory (``inventory_hand_poses``)
    instead of a letter's. ``start``: readings an earlier, cancelled call saved; when
    its ``key`` is this call's, its renders are not made again (the random draws are,
    so the result is the same as one uninterrupted call; all of them made: ``start``
    itself). ``save(readings so far)`` is called every ``SAVE_EVERY`` renders, when
    cancelled or interrupted (KeyboardInterrupt) and at the end; an error it raises
    ends the rendering. Raises ValueError when the
    lexicon has no letters of ``languages``; ``Cancelled`` when cancelled.
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
    key = readings_key(frames, renders, seed=seed, finger_jitter=finger_jitter,
                       wrist_jitter=wrist_jitter, blend_share=blend_share,
                       inventory_share=inventory_share)
    entries = tuple(entry for entry, _ in frames)
    bases = [motion for _, motion in frames]
    inventory = inventory_hand_poses(avatar) if inventory_share else []
    rng = np.random.default_rng(seed)
    continued = start is not None and start.key == key
    if continued and start.rendered >= renders:
        progress(renders, renders, f"all {renders} renders were saved ({len(start.points)} found)")
        return start
    # (points (21, 3), finger pose (15, 3)) of each hand found, appended as one pair so
    # an interruption can never leave one without the other.
    found: list[tuple[np.ndarray, np.ndarray]] = (
        list(zip(start.points, start.poses)) if continued else [])
    rendered_before = start.rendered if continued else 0

    def so_far(rendered: int) -> HandReadings:
        return HandReadings(
            points=np.array([p for p, _ in found], np.float64).reshape(-1, 21, 3),
            poses=np.array([f for _, f in found], np.float32).reshape(-1, 15, 3),
            entries=entries, rendered=rendered, key=key)

    if start is not None and not continued:
        progress(0, renders, "the saved readings are of other letters or settings: "
                             "rendering them again")
    if rendered_before:
        progress(rendered_before, renders,
                 f"continuing after {rendered_before} saved renders ({len(found)} found)")
    wrist = JOINT_INDEX["right_wrist"] - 1  # body_pose leaves out the pelvis
    with mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1) as holistic, \
            OffscreenRenderer(avatar, RENDER_SIZE, RENDER_SIZE) as renderer:
        for number in range(renders):
            # Drawn for every render, made or not, so a continued run draws as one would.
            motion, fingers = _draw_sample(rng, bases, inventory, wrist, finger_jitter,
                                           wrist_jitter, blend_share, inventory_share)
            if number < rendered_before:
                continue
            try:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                posed = avatar.forward(motion)
                renderer.set_camera("front", posed.joints)
                image = renderer.render(posed.vertices[0])
                hand = holistic.process(np.ascontiguousarray(image[..., :3])).right_hand_landmarks
            except (Cancelled, KeyboardInterrupt):
                # Ctrl+C in the command line arrives here too: keep what was made.
                if save is not None:
                    save(so_far(number))
                raise
            if hand is not None:
                height, width = image.shape[:2]
                found.append((np.array([[m.x * width, m.y * height, m.z * width]
                                        for m in hand.landmark]), fingers))
            if save is not None and (number + 1) % SAVE_EVERY == 0 and number + 1 < renders:
                save(so_far(number + 1))
            if (number + 1) % 50 == 0 or number + 1 == renders:
                progress(number + 1, renders, f"rendered and read {number + 1} hands "
                                              f"({len(found)} found)")
    readings = so_far(renders)
    if save is not None:
        save(readings)
    return readings


def _draw_sample(rng, bases, inventory, wrist: int, finger_jitter: float, wrist_jitter: float,
                 blend_share: float, inventory_share: float):
    """One sample: (a one-frame Motion of the whole body, its right-hand finger
    axis-angles (15, 3) radians): a letter's arm, another's fingers (or an inventory
    handshape's), maybe blended with a third's, the fingers and the wrist (``wrist``, an
    index into ``body_pose``) jittered."""
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
    return motion, fingers
