"""How the default avatar looks: eyes with an iris and pupil, brows, lips, plain clothing.

Sign-language video is filmed with the signer in plain dark clothing so the hands stand
out against it, and a face is read by its brows, eyes and mouth. The baked mesh has
only skin, eyeballs, mouth interior and hair (``vertex_region``); the parts below are
found on it by geometry when the avatar is loaded, so they move with it exactly: the
iris and pupil are on the eyeball (skinned to the eye joints, so they follow
``leye_pose``/``reye_pose``), the brows and lips are skin vertices that the brow and
mouth blendshapes move.

- iris / pupil: eyeball vertices whose direction from the eyeball's centre lies within
  ``IRIS_DEG`` / ``PUPIL_DEG`` of straight ahead (+Z in the rest pose);
- brows and lips: skin vertices inside the outline of MediaPipe's brow and outer-lip
  landmarks (``assets/mediapipe_face_points.json``), seen from the front;
- top: skin whose strongest skin weight is a spine, collar, shoulder or elbow joint,
  cut round the neck by one smooth collar (``NECKLINE_M``, ``NECK_OPENING_M``); a sleeve
  ends in a straight cuff ``CUFF_M`` before the wrist;
- trousers: the pelvis, hips and knees; shoes: the ankles and feet.
"""
from __future__ import annotations

import enum

import numpy as np

from engine.body.skeleton import JOINT_INDEX


class Look(enum.IntEnum):
    """Per-vertex appearance regions, in drawing order (their colours: ``LOOK_COLOURS``)."""

    SKIN = 0
    EYE_WHITE = 1
    MOUTH = 2
    HAIR = 3
    IRIS = 4
    PUPIL = 5
    BROWS = 6
    LIPS = 7
    TOP = 8
    TROUSERS = 9
    SHOES = 10


#: sRGB colours. The top and trousers are plain and dark, as signers dress for video;
#: ``look_colours`` replaces them with the user's. The top is slate (#3a4150) rather than
#: darker: MediaPipe's palm detector missed a rendered fist seen from the palm side
#: against #2e3440 and #1e2228 sleeves and found it against #3a4150, #404a5c and black
#: (tests/engine/test_image_match.py's view; the detector is that brittle on renders).
LOOK_COLOURS: dict[Look, tuple[int, int, int]] = {
    Look.SKIN: (224, 178, 148), Look.EYE_WHITE: (245, 245, 240), Look.MOUTH: (150, 70, 70),
    Look.HAIR: (70, 50, 40), Look.IRIS: (92, 64, 44), Look.PUPIL: (18, 14, 12),
    Look.BROWS: (88, 62, 46), Look.LIPS: (178, 102, 96), Look.TOP: (58, 65, 80),
    Look.TROUSERS: (38, 40, 46), Look.SHOES: (28, 26, 26),
}
IRIS_DEG = 38.0
PUPIL_DEG = 14.0
NECKLINE_M = 0.15       # metres below the head joint where the top's collar is at the back
NECKLINE_DIP_M = 0.025  # and how much lower it is at the front
NECK_OPENING_M = 0.085  # the collar's radius round the neck joint's vertical axis
CUFF_M = 0.035          # how far before the wrist joint a sleeve ends
#: MediaPipe Face Mesh outlines (landmark indices, in order around each shape).
LEFT_BROW = (336, 296, 334, 293, 300, 276, 283, 282, 295, 285)
RIGHT_BROW = (107, 66, 105, 63, 70, 46, 53, 52, 65, 55)
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84,
              181, 91, 146)

_TOP_JOINTS = ("spine1", "spine2", "spine3", "left_collar", "right_collar", "left_shoulder",
               "right_shoulder", "left_elbow", "right_elbow")
_TROUSER_JOINTS = ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee")
_SHOE_JOINTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")


def _inside(points: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """(N,) bool: which 2D ``points`` (N, 2) lie inside the polygon ``outline`` (M, 2)."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = outline[:, 0], outline[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = ((y0 > y) != (y1 > y)) & (x < (x1 - x0) * (y - y0) / np.where(y1 == y0, 1e-12, y1 - y0) + x0)
    return crosses.sum(axis=1) % 2 == 1


def appearance_regions(rest_vertices: np.ndarray, skin_weights: np.ndarray,
                       vertex_region: np.ndarray, rest_joints: np.ndarray,
                       landmarks: np.ndarray | None) -> np.ndarray:
    """(V,) uint8 ``Look`` of every vertex of the default avatar (see the module).
    ``landmarks``: (478, 3) MediaPipe's face points on the rest mesh, which outline the
    brows and lips (``engine.body.face_points``); None: no brows or lips (how
    tools/calibrate_face_points.py first renders the face, before it knows them)."""
    looks = np.asarray(vertex_region, np.uint8).copy()
    skin = looks == Look.SKIN
    dominant = np.argmax(skin_weights, axis=1)
    for names, look in ((_TOP_JOINTS, Look.TOP), (_TROUSER_JOINTS, Look.TROUSERS),
                        (_SHOE_JOINTS, Look.SHOES)):
        ids = [JOINT_INDEX[n] for n in names]
        looks[skin & np.isin(dominant, ids)] = look
    # The cuffs: a straight edge across each forearm (skin weights alone give a zigzag)
    # a little before the wrist, so the hand and wrist stand out whole. The rest pose is
    # a T-pose, arms along +-x.
    for side in ("left", "right"):
        wrist_x = abs(rest_joints[JOINT_INDEX[f"{side}_wrist"], 0])
        arm = looks == Look.TOP
        arm &= np.sign(rest_vertices[:, 0]) == np.sign(rest_joints[JOINT_INDEX[f"{side}_wrist"], 0])
        looks[arm & (np.abs(rest_vertices[:, 0]) > wrist_x - CUFF_M)] = Look.SKIN
    # The collar: one smooth line round the neck (skin weights alone give a zigzag),
    # a little lower at the front, as a crew neck sits.
    near_neck = skin & np.isin(dominant, [JOINT_INDEX[n] for n in
                                          ("neck", "spine3", "left_collar", "right_collar")])
    head = rest_joints[JOINT_INDEX["head"]]
    forward = np.clip((rest_vertices[:, 2] - head[2]) / 0.06, 0.0, 1.0)
    line = head[1] - NECKLINE_M - NECKLINE_DIP_M * forward
    neck_joint = rest_joints[JOINT_INDEX["neck"]]
    around = np.hypot(rest_vertices[:, 0] - neck_joint[0], rest_vertices[:, 2] - neck_joint[2])
    bare = (rest_vertices[:, 1] >= line) & (around < NECK_OPENING_M)
    looks[near_neck & ~bare] = Look.TOP
    looks[near_neck & bare] = Look.SKIN
    # Eyes: each eyeball is the eye-region vertices skinned to one eye joint.
    for eye in ("left_eye_smplhf", "right_eye_smplhf"):
        ball = (vertex_region == Look.EYE_WHITE) & (dominant == JOINT_INDEX[eye])
        if not ball.any():
            continue
        centre = rest_vertices[ball].mean(axis=0)
        direction = rest_vertices[ball] - centre
        angle = np.degrees(np.arccos(np.clip(
            direction[:, 2] / np.linalg.norm(direction, axis=1), -1.0, 1.0)))
        ids = np.flatnonzero(ball)
        looks[ids[angle <= IRIS_DEG]] = Look.IRIS
        looks[ids[angle <= PUPIL_DEG]] = Look.PUPIL
    if landmarks is None:
        return looks
    # Brows and lips: inside MediaPipe's outlines, on the front of the face.
    front = skin & (rest_vertices[:, 2] > rest_joints[JOINT_INDEX["head"], 2])
    for outline, look in ((LEFT_BROW, Look.BROWS), (RIGHT_BROW, Look.BROWS),
                          (OUTER_LIPS, Look.LIPS)):
        shape = landmarks[list(outline)]
        candidates = np.flatnonzero(front)
        inside = _inside(rest_vertices[candidates, :2], shape[:, :2])
        # Only the surface near the outline's own depth (not the nose behind a lip).
        near = np.abs(rest_vertices[candidates, 2] - shape[:, 2].mean()) < 0.02
        looks[candidates[inside & near]] = look
    return looks


def look_colours(top: str | None = None, trousers: str | None = None) -> np.ndarray:
    """(len(Look), 3) uint8 sRGB colours, with the top and trousers in the user's
    colours ("#rrggbb") where given."""
    colours = dict(LOOK_COLOURS)
    for look, value in ((Look.TOP, top), (Look.TROUSERS, trousers)):
        if value:
            colours[look] = parse_colour(value)
    return np.array([colours[look] for look in Look], np.uint8)


def parse_colour(value: str) -> tuple[int, int, int]:
    """'#2e3440' -> (46, 52, 64); ValueError naming the value otherwise."""
    text = value.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour: expected #rrggbb (e.g. #2e3440), got {value!r}")
    try:
        return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        raise ValueError(f"colour: expected #rrggbb (e.g. #2e3440), got {value!r}") from None
