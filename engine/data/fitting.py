"""Fit SMPL-X joint rotations to MediaPipe-Holistic keypoints (``KeypointSequence``).

What is optimised (torch, CPU, all frames at once with Adam):

* per frame: rotations of the spine, neck, head, collars, shoulders (free axis-angle
  with a prior), elbows, wrists and all 30 finger joints (bounded Euler angles in
  each joint's anatomical frame, see "joint limits" below). The pelvis and the legs
  stay at rest: the clips show the upper body only.
* per sequence: a 2D/3D offset and a global scale of the camera (a similarity between
  the avatar's metres and the keypoints' shoulder widths), and bone-length scales for
  the arms and the hands, so the avatar's hand matches the signer's hand size.

Keypoint frame (``engine.data.keypoints``): origin at the signer's median shoulder
midpoint, +X the subject's left, +Y up, +Z toward the camera, one unit = the shoulder
width. Those are SMPL-X's axes, so the camera is an orthographic projection onto X-Y:
``kp = scale * (P - c) / w + offset`` with ``P`` the avatar's joint (metres), ``c`` its
rest shoulder midpoint and ``w`` its shoulder width. When ``metadata.is_2d`` the loss
uses x and y only and depth comes from the priors (joint limits, pose prior,
smoothness, and the hand's chirality: a right hand's 2D outline fixes which side of
the palm faces the camera). Otherwise z is fitted too.

Correspondence MediaPipe -> SMPL-X: body shoulders, elbows, wrists and hips -> the
same joints; eyes -> the eye joints; nose and ears -> points on the avatar's head
mesh (rigid on the head joint). Hands (issue 3): MediaPipe does not put its hand
landmarks at the avatar's joint centres (measured on 392 readings of renders: its WRIST
sits ~0.13 hand sizes toward the fingers and its MCPs ~0.1 toward the wrist, whatever
the curl, so its palm is ~0.77 of the avatar's wrist -> knuckle length; its tips sit
at the pads), so, as marker-based capture does with skin markers, each of
the 21 landmarks is a point rigidly attached to one bone at a LOCAL OFFSET in that
bone's frame, calibrated from MediaPipe's readings of the avatar rendered in known
random hand poses from four views (tools/calibrate_landmarks.py ->
assets/mediapipe_hand_offsets.json; right hand, mirrored for the left, scaled by the
body's hand length): ``landmarks="calibrated"``, opt-in because it measured worse on
bench/known_truth.py (see ``LANDMARK_MODELS``). The default, ``landmarks="joints"``: WRIST -> wrist,
THUMB_CMC/MCP/IP -> thumb1/2/3, FINGER MCP/PIP/DIP -> finger1/2/3, every TIP -> finger3
+ the bone direction times a tip length measured on the avatar's mesh. The hand
volume and contact terms below always use the joint centres and those tips: they are
about the bones, not about where MediaPipe looks.

Joint limits as a parametrisation, not a penalty: each elbow, wrist and finger joint
is ``R = Rot(e1, t1) Rot(e2, t2) Rot(e3, t3)`` about axes fixed in its rest frame, with
``t = lo + (hi - lo) * sigmoid(u)`` and ``u`` free. So a finger can never bend
backwards on any frame, whatever the data say (a penalty only discourages it, and a
2D fit has many depth-flipped minima where the penalty loses to the data term). PIP
and DIP are pure hinges. The finger axes come from the rest skeleton: twist ``d`` =
the bone, flexion ``a = d x n`` with ``n`` the palm normal (so positive flexion moves
the finger toward the palm: +Z on the right hand, -Z on the left in the T-pose),
abduction about ``n``. Abduction is the outer rotation so the flexion plane follows a
spread finger (as the MCP joint does). The thumb's flexion direction points from the
thumb toward the palmar side of the little finger's knuckle (thumb flexion sweeps
across the palm toward the hypothenar). The price of sigmoid bounds is a vanishing
gradient at a limit; the fit starts from a relaxed pose well inside the ranges.

Prior: no learned pose prior is available offline, so a Gaussian toward a relaxed
pose (arms down, fingers slightly curled) with per-joint weights, plus the limits,
plus an anatomical hand-pose prior (``hand_pose_prior``): soft couplings of each long
finger's DIP to its PIP (2/3) and PIP to MCP, in the same bounded Euler angles. Its
weights were tuned on ``bench/known_truth.py`` (14 ASL letters rendered, read by
MediaPipe, fitted): DIP 0.02 / PIP 0.005 per radian^2 moved the mean finger-joint
error from 11.2 to 11.4 degrees (within the bench's noise; S 15.1 -> 14.1, O 11.7 ->
13.0) and the 2D error not at all; stronger weights (0.05 to 1.0) and a neighbour
coupling made E, O and D worse without helping the fist (see ``hand_pose_prior``).
Smoothness: penalties on the velocity of the pose parameters and the acceleration of
the 3D joint positions. Confidence weights the data term; a point with confidence 0
is ignored, so a missing hand is carried by smoothness and held by the prior.

Hand volume (what 2D cannot tell): spheres along the fingers (radius FINGER_RADIUS,
a little under the avatar's ~1 cm finger thickness) must not overlap between the
thumb and the other fingers or palm, or between neighbouring fingers, so a thumb seen
over curled fingers goes in front of them rather than through them; and a thumb tip
that lies within CONTACT_2D hand sizes of finger tips, DIPs or PIPs in 2D is pulled
to touch them in 3D (F, O, D, E are defined by such contacts): every fingertip within
reach, but only the nearest PIP or DIP, since a thumb lying across a fist is near many
of those at once (``_contact_mask``).

Start: arm inverse kinematics from the 2D shoulder, elbow and wrist, then a grid over
forearm twist x wrist flexion x per-finger curl scored on the 2D hand points. The
palm's facing (toward or away from the camera) is a discrete choice a local optimiser
rarely undoes, so it is made there, by search. Then Adam over all frames at once.

Speed: ~150 steps of ~7-10 ms for a 25-frame clip on one CPU thread (the FK is
batched per tree level, 12 levels). The caller chooses torch's thread count; for many
clips, one clip per core with ``torch.set_num_threads(1)`` is fastest.
"""
from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import roma
import torch

from engine.body.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS, tree_levels
from engine.data.keypoints import BODY_INDEX, HAND_INDEX, HAND_POINT_NAMES, KeypointSequence
from engine.jobs import CancelToken, Progress
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.motion import Motion

FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X hand order
#: MediaPipe hand point names of each finger, base to tip (MCP, PIP, DIP, TIP; for the
#: thumb CMC, MCP, IP, TIP), matching SMPL-X finger1, finger2, finger3, tip.
MEDIAPIPE_FINGER_POINTS: dict[str, tuple[str, str, str, str]] = {
    "thumb": ("THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP"),
    "index": ("INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP"),
    "middle": ("MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP"),
    "ring": ("RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP"),
    "pinky": ("PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"),
}
SIDES = ("left", "right")
D = math.pi / 180.0
#: How the 21 MediaPipe hand landmarks are modelled (``FitSkeleton(landmarks=...)``):
#: "joints" (the default) puts them at the joint centres and the tips at the bone ends;
#: "calibrated" puts each on a bone at an offset measured by tools/calibrate_landmarks.py
#: (assets/mediapipe_hand_offsets.json). Measured for issue 3: "calibrated" fits
#: MediaPipe's readings of held-out random poses at their true pose 30% better (median
#: 0.106 -> 0.074 hand sizes) and recovers the rendered fist (~19 deg, nearest shape),
#: but on bench/known_truth.py its mean finger-joint error is worse (13.0 vs 11.4 deg;
#: its own wrist grid turns A's and C's palms ~60 deg wrong) and on the 26 ASL clips its
#: 2D error p95 is worse (0.30 vs 0.26 hand sizes), so it is not the default. With
#: ``fit_keypoints(starts=2)`` it measures 10.8 deg but loses the fist (see there).
#: MediaPipe's reading of the rendered fist is ambiguous: a ~40 degree curl of every
#: finger joint, fingers toward the camera, fits it better than the fist. With joint
#: centres the true fist's 2D error is three times the half-curl's. With calibrated
#: landmarks and the fingers pinned to the true fist the data term ties (squared point
#: errors 0.075 vs 0.072), but the priors and hand-volume terms tip it: started at the
#: truth the fit stays near it (10.5 deg) with loss 0.26, the half-curl ends at 0.16
#: (the reference fist's thumb also lies inside the collision spheres and 23 degrees
#: off the thumb IP hinge). So only the starting pose decides whether the fist is
#: found (tests/engine/test_video_import.py); weaker finger priors (x0.1) did not
#: change that.
LANDMARK_MODELS = ("joints", "calibrated")
DEFAULT_LANDMARKS = "joints"
LANDMARK_OFFSETS_FILE = "mediapipe_hand_offsets.json"

# Joint ranges in degrees, (lo, hi) for the three Euler axes in composition order.
# Fingers: (abduction about the palm normal, flexion, twist about the bone).
_FINGER_LIMITS = {
    1: ((-20, 20), (-15, 100), (-8, 8)),    # MCP: slight hyperextension, spread
    2: ((0, 0), (0, 110), (0, 0)),          # PIP: pure flexion toward the palm
    3: ((0, 0), (0, 90), (0, 0)),           # DIP: pure flexion toward the palm
}
_PINKY_MCP = ((-25, 25), (-15, 100), (-8, 8))
# Thumb: (abduction about its flexion direction, flexion, twist about the bone).
_THUMB_LIMITS = {
    1: ((-45, 45), (-35, 75), (-50, 50)),   # CMC: saddle joint, wide, with opposition twist
    2: ((-15, 15), (-15, 80), (-10, 10)),   # MCP
    3: ((0, 0), (-15, 95), (0, 0)),         # IP: a hinge; a little hyperextension
}
# Elbow: (flexion, twist about the forearm, carrying angle); wrist: (twist about the
# forearm, flexion toward the palm, radial/ulnar deviation).
_ELBOW_LIMITS = ((0, 150), (-90, 90), (-10, 10))
_WRIST_LIMITS = ((-90, 90), (-75, 80), (-30, 30))

#: Relaxed pose used as the prior's mean and the fit's start, in the Euler ranges' terms.
_RELAXED_FINGER = {1: (0.0, 12.0, 0.0), 2: (0.0, 18.0, 0.0), 3: (0.0, 10.0, 0.0)}
_RELAXED_THUMB = {1: (0.0, 10.0, 0.0), 2: (0.0, 10.0, 0.0), 3: (0.0, 10.0, 0.0)}
_RELAXED_ELBOW = (25.0, 0.0, 0.0)
_RELAXED_WRIST = (0.0, 0.0, 0.0)
ARM_DOWN = 1.25  # radians below the T-pose (reference_poses uses 1.3 for "arms down")


@dataclass(frozen=True)
class FitWeights:
    """Loss weights. Data terms are squared distances in shoulder widths (body) or in
    hand sizes (hand points, so hands weigh the same whatever the signer's size)."""

    body: float = 1.0
    head: float = 0.3
    hand: float = 1.0
    hand_wrist: float = 2.0
    prior_body: float = 2e-3       # per radian^2 of axis-angle away from relaxed
    prior_spine: float = 5e-2
    prior_collar: float = 5e-2
    prior_arm_euler: float = 1e-3  # elbow and wrist (radians^2)
    prior_finger: float = 2e-3
    velocity: float = 2e-2         # per (radian per frame)^2, on the pose parameters
    acceleration: float = 2.0      # per (shoulder width per frame^2)^2, on 3D points
    scale: float = 10.0            # on log(scale)^2 for the camera and bone scales
    collision: float = 20.0        # per (overlap / finger thickness)^2 of hand spheres
    contact: float = 10.0          # per (gap / finger thickness)^2 of 2D-touching tips
    # Hand-pose prior (``hand_pose_prior``), per radian^2. Tuned on bench/known_truth.py
    # (see the module docstring): DIP coupling 0.02 is about what a 0.03 hand-size shift
    # of one fingertip costs the data term, so it decides only what 2D leaves open.
    couple_dip: float = 0.02       # DIP flexion away from DIP_PER_PIP x PIP
    couple_pip: float = 0.005      # PIP flexion away from PIP_PER_MCP x MCP
    couple_adjacent: float = 0.0   # curl difference between neighbouring fingers (off)


@dataclass(frozen=True)
class FitResult:
    """Outcome of ``fit_keypoints``.

    ``motion``: the fitted Motion (F frames at the sequence's fps; root and legs at
    rest, transl 0, face neutral).
    ``per_frame_error``: (F,) float32, mean 2D reprojection error of the seen hand
    points divided by the hand size (NaN on frames with no hand seen).
    ``quality``: summary numbers (see ``hand_quality``: ``hand_error_median``,
    ``hand_error_p95``), the fitted scales (``camera_scale``, ``arm_scale``,
    ``hand_scale``), ``iterations``, ``frames`` and ``seconds``.
    ``hand_point_errors``: (F, 2, 21) float32 per-point normalised errors (hands left,
    right; MediaPipe point order; NaN where the point is not seen), for aggregating
    over many clips.
    """

    motion: Motion
    per_frame_error: np.ndarray
    quality: Mapping[str, float]
    hand_point_errors: np.ndarray


# --------------------------------------------------------------------- skeleton setup

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _finger_joint(side: str, finger: str, k: int) -> int:
    return JOINT_INDEX[f"{side}_{finger}{k}"]


def _vertex_owner(body, rest_vertices: np.ndarray) -> np.ndarray:
    """(V,) joint that most influences each rest vertex (skin weights when the body has
    them, else the nearest joint)."""
    weights = getattr(body, "skin_weights", None)
    if weights is not None:
        return np.asarray(weights).argmax(axis=1)
    dist = np.linalg.norm(rest_vertices[:, None] - np.asarray(body.rest_joints)[None], axis=-1)
    return dist.argmin(axis=1)


def load_landmark_offsets(path=None) -> dict:
    """Read the calibrated MediaPipe hand landmark offsets (the right hand's).

    ``path``: a JSON file as tools/calibrate_landmarks.py writes it (default: the
    embedded ``assets/mediapipe_hand_offsets.json``). Returns ``{"hand_length_m": float,
    "landmarks": {MediaPipe point name: (bone name without side, (3,) float64 offset in
    metres in that bone's rest frame)}}``. Raises ``ProjectFileError`` naming the file
    and the field when it is unreadable or incomplete.
    """
    from engine.assets import asset_path

    path = asset_path(LANDMARK_OFFSETS_FILE) if path is None else path
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as error:
        raise ProjectFileError(path, f"not a readable JSON file ({error})") from None
    length = raw.get("hand_length_m") if isinstance(raw, dict) else None
    if not isinstance(length, (int, float)) or not length > 0:
        raise ProjectFileError(path, "field hand_length_m: expected a positive number of metres")
    marks = raw.get("landmarks")
    if not isinstance(marks, dict):
        raise ProjectFileError(path, "field landmarks: expected an object keyed by MediaPipe point name")
    out = {}
    for name in HAND_POINT_NAMES:
        entry = marks.get(name)
        bone = entry.get("bone") if isinstance(entry, dict) else None
        if not isinstance(bone, str) or f"right_{bone}" not in JOINT_INDEX:
            raise ProjectFileError(path, f"field landmarks.{name}.bone: expected a right-arm or "
                                         f"right-hand joint name without 'right_', got {bone!r}")
        value = entry.get("offset_m")
        offset = np.asarray(value, dtype=np.float64) if isinstance(value, list) else None
        if offset is None or offset.shape != (3,) or not np.isfinite(offset).all():
            raise ProjectFileError(path, f"field landmarks.{name}.offset_m: expected 3 finite "
                                         "numbers (metres)")
        out[name] = (bone, offset)
    return {"hand_length_m": float(length), "landmarks": out}


class FitSkeleton:
    """Everything the fitter needs from a body model, as numpy/torch constants.

    Points: the 55 joints, then 10 fingertips (left hand's 5 then right's, SMPL-X
    finger order), then 3 head landmarks (nose, left ear, right ear), then, when
    ``landmarks == "calibrated"``, the 2 x 21 MediaPipe hand landmarks (left hand then
    right, MediaPipe order) as points on bones. Metres, rest pose.

    ``landmarks``: one of ``LANDMARK_MODELS``. "calibrated" models each MediaPipe hand
    landmark as a point rigidly attached to a bone at an offset in that bone's frame
    (``load_landmark_offsets``: calibrated on the default avatar from MediaPipe's
    readings of its renders; scaled by this body's hand length, mirrored for the left
    hand), the way marker-based capture models skin markers: MediaPipe puts a fist's
    MCP landmarks on the back of the knuckles, not at the joint centres. "joints": at
    the joint centres (tips at the bone ends), as before issue 3. ``offsets_path``:
    another calibration file (default: the embedded asset).
    """

    def __init__(self, body, landmarks: str = "joints", offsets_path=None) -> None:
        if landmarks not in LANDMARK_MODELS:
            raise ValueError(f"landmarks: expected one of {LANDMARK_MODELS}, got {landmarks!r}")
        self.landmarks = landmarks
        rest = np.asarray(body.rest_joints, np.float64)
        self.rest_joints = rest
        rest_vertices = np.asarray(
            getattr(body, "rest_vertices", None) if getattr(body, "rest_vertices", None) is not None
            else body.forward(Motion.zeros(1)).vertices[0], np.float64)
        owner = _vertex_owner(body, rest_vertices)
        j = JOINT_INDEX
        self.shoulder_mid = (rest[j["left_shoulder"]] + rest[j["right_shoulder"]]) / 2
        self.shoulder_width = float(np.linalg.norm(rest[j["left_shoulder"]] - rest[j["right_shoulder"]]))

        # Extra points rigidly attached to a joint: (joint, offset in the rest frame).
        extra_parent, extra_offset = [], []
        self.tip_index: dict[tuple[str, str], int] = {}
        for side in SIDES:
            for finger in FINGERS:
                j3 = _finger_joint(side, finger, 3)
                bone = _unit(rest[j3] - rest[_finger_joint(side, finger, 2)])
                mine = rest_vertices[owner == j3]
                if len(mine):
                    length = float(((mine - rest[j3]) @ bone).max())
                else:  # no vertex on the last phalanx: use the middle phalanx's length
                    length = float(np.linalg.norm(rest[j3] - rest[_finger_joint(side, finger, 2)]))
                self.tip_index[(side, finger)] = NUM_JOINTS + len(extra_parent)
                extra_parent.append(j3)
                extra_offset.append(bone * length)
        head = j["head"]
        head_vertices = rest_vertices[owner == head]
        eyes = (rest[j["left_eye_smplhf"]] + rest[j["right_eye_smplhf"]]) / 2
        if len(head_vertices) > 50:
            near_mid = head_vertices[np.abs(head_vertices[:, 0]) < 0.01]
            band = near_mid[(near_mid[:, 1] < eyes[1]) & (near_mid[:, 1] > eyes[1] - 0.07)]
            nose = band[band[:, 2].argmax()] if len(band) else eyes + [0, -0.035, 0.03]
            ear_band = head_vertices[np.abs(head_vertices[:, 1] - (eyes[1] - 0.02)) < 0.015]
            left_ear = ear_band[ear_band[:, 0].argmax()] if len(ear_band) else eyes + [0.07, -0.02, -0.08]
            right_ear = ear_band[ear_band[:, 0].argmin()] if len(ear_band) else eyes + [-0.07, -0.02, -0.08]
        else:  # a body without a head mesh: average human offsets from the eyes
            nose = eyes + [0, -0.035, 0.03]
            left_ear, right_ear = eyes + [0.07, -0.02, -0.08], eyes + [-0.07, -0.02, -0.08]
        self.nose_index = NUM_JOINTS + len(extra_parent)
        for point in (nose, left_ear, right_ear):
            extra_parent.append(head)
            extra_offset.append(np.asarray(point) - rest[head])
        # MediaPipe hand landmarks: side -> (21,) model point indices, MediaPipe order.
        self.landmark_index: dict[str, np.ndarray] = {}
        landmark_extras = []
        if landmarks == "calibrated":
            calibration = load_landmark_offsets(offsets_path)
            ratio = float(np.linalg.norm(rest[j["right_middle1"]] - rest[j["right_wrist"]])
                          ) / calibration["hand_length_m"]
            for side in SIDES:
                mirror = np.array([1.0, 1.0, 1.0]) if side == "right" else np.array([-1.0, 1.0, 1.0])
                ids = []
                for name in HAND_POINT_NAMES:
                    bone, offset = calibration["landmarks"][name]
                    ids.append(NUM_JOINTS + len(extra_parent))
                    landmark_extras.append(len(extra_parent))
                    extra_parent.append(j[f"{side}_{bone}"])
                    extra_offset.append(offset * mirror * ratio)
                self.landmark_index[side] = np.array(ids, np.int64)
        else:
            for side in SIDES:
                ids = [j[f"{side}_wrist"]]
                for finger in ("thumb", "index", "middle", "ring", "pinky"):
                    ids += [_finger_joint(side, finger, k) for k in (1, 2, 3)]
                    ids.append(self.tip_index[(side, finger)])
                self.landmark_index[side] = np.array(ids, np.int64)
        self.extra_parent = np.array(extra_parent, np.int64)
        self.extra_offset = np.array(extra_offset, np.float64)
        self.num_points = NUM_JOINTS + len(extra_parent)

        # Bone offsets from the parent, and which scale group each belongs to
        # (0 none, 1 arm, 2 hand); the extras belong to their parent's group.
        offsets = rest - rest[np.maximum(PARENTS, 0)]
        offsets[0] = rest[0]
        group = np.zeros(NUM_JOINTS, np.int64)
        for side in SIDES:
            group[[j[f"{side}_elbow"], j[f"{side}_wrist"]]] = 1
            for finger in FINGERS:
                for k in (1, 2, 3):
                    group[_finger_joint(side, finger, k)] = 2
        self.offsets = offsets
        self.group = group
        self.extra_group = group[self.extra_parent].copy()
        # Landmarks scale with the hand (the wrist's too: it rides on the wrist joint,
        # whose own offset from the elbow is an arm bone).
        self.extra_group[landmark_extras] = 2

        # FK levels: joints by depth (parents are exactly one level up).
        self.levels = tree_levels()

        self._setup_joints()

    # -- which joints move, and how ---------------------------------------------------
    def _setup_joints(self) -> None:
        rest, j = self.rest_joints, JOINT_INDEX
        self.rotvec_joints = np.array([j[n] for n in (
            "spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_collar",
            "left_shoulder", "right_shoulder")], np.int64)
        relaxed_rotvec = np.zeros((len(self.rotvec_joints), 3))
        prior_rotvec = np.zeros(len(self.rotvec_joints))
        w = FitWeights()
        for i, joint in enumerate(self.rotvec_joints):
            name = [k for k, v in j.items() if v == joint][0]
            if name == "left_shoulder":
                relaxed_rotvec[i] = (0, 0, -ARM_DOWN)
            elif name == "right_shoulder":
                relaxed_rotvec[i] = (0, 0, ARM_DOWN)
            prior_rotvec[i] = (w.prior_spine if "spine" in name else w.prior_collar if "collar" in name
                               else w.prior_body)
        self.relaxed_rotvec = relaxed_rotvec
        self.prior_rotvec = prior_rotvec

        euler_joints, axes, limits, relaxed, kinds = [], [], [], [], []
        for side in SIDES:
            sign = 1.0 if side == "right" else -1.0
            wrist = rest[j[f"{side}_wrist"]]
            index1, pinky1 = rest[j[f"{side}_index1"]], rest[j[f"{side}_pinky1"]]
            # Palm normal (the side the fingers flex toward): -Y on both rest hands.
            palm = _unit(sign * np.cross(index1 - wrist, pinky1 - wrist))
            elbow = rest[j[f"{side}_elbow"]]
            forearm = _unit(wrist - elbow)
            forward = np.array([0.0, 0.0, 1.0])  # the elbow flexes the forearm forward
            elbow_flex = _unit(np.cross(forearm, forward))
            forward = np.cross(elbow_flex, forearm)
            euler_joints.append(j[f"{side}_elbow"])
            axes.append((elbow_flex, forearm, forward))
            limits.append(_ELBOW_LIMITS)
            relaxed.append(_RELAXED_ELBOW)
            kinds.append("arm")

            hand_dir = _unit(rest[j[f"{side}_middle1"]] - wrist)
            wrist_flex = _unit(np.cross(hand_dir, palm))
            palm_n = np.cross(wrist_flex, hand_dir)
            euler_joints.append(j[f"{side}_wrist"])
            axes.append((hand_dir, wrist_flex, palm_n))
            limits.append(_WRIST_LIMITS)
            relaxed.append(_RELAXED_WRIST)
            kinds.append("arm")

            for finger in FINGERS:
                for k in (1, 2, 3):
                    joint = _finger_joint(side, finger, k)
                    child = (_finger_joint(side, finger, k + 1) if k < 3 else None)
                    if child is not None:
                        bone = _unit(rest[child] - rest[joint])
                    else:
                        bone = _unit(rest[joint] - rest[_finger_joint(side, finger, 2)])
                    if finger == "thumb":
                        # Flexion sweeps the thumb toward the palmar side of the little
                        # finger's knuckle.
                        target = pinky1 + 0.02 * palm - rest[joint]
                        toward = _unit(target - (target @ bone) * bone)
                        lim = _THUMB_LIMITS[k]
                        rel = _RELAXED_THUMB[k]
                    else:
                        toward = _unit(palm - (palm @ bone) * bone)
                        lim = _PINKY_MCP if (finger == "pinky" and k == 1) else _FINGER_LIMITS[k]
                        rel = _RELAXED_FINGER[k]
                    flex = _unit(np.cross(bone, toward))
                    normal = np.cross(flex, bone)
                    euler_joints.append(joint)
                    axes.append((normal, flex, bone))
                    limits.append(lim)
                    relaxed.append(rel)
                    kinds.append("finger")
        self.euler_joints = np.array(euler_joints, np.int64)
        self.euler_axes = np.array(axes, np.float64)            # (E, 3 axes, 3)
        self.euler_limits = np.array(limits, np.float64) * D    # (E, 3, 2) radians
        self.euler_relaxed = np.array(relaxed, np.float64) * D  # (E, 3)
        self.euler_kinds = np.array(kinds)
        w = FitWeights()
        self.prior_euler = np.where(self.euler_kinds == "finger", w.prior_finger, w.prior_arm_euler)
        # Angles whose range is empty are locked (pure hinges); keep them at 0.
        self.euler_free = self.euler_limits[..., 1] > self.euler_limits[..., 0]
        # Euler slots of each long finger's MCP, PIP and DIP, (2 hands x 4 fingers,)
        # each, hands left then right, fingers index, middle, ring, pinky (so that
        # neighbours in the hand are neighbours in the array), for the hand-pose prior.
        slot_of = {int(joint): i for i, joint in enumerate(self.euler_joints)}
        self.coupling_slots = np.array(
            [[[slot_of[_finger_joint(side, finger, k)] for finger in ("index", "middle", "ring", "pinky")]
              for side in SIDES] for k in (1, 2, 3)], np.int64).reshape(3, -1)

    # -- torch forward -----------------------------------------------------------------
    def torch_constants(self) -> dict[str, torch.Tensor]:
        f = torch.float32
        axes = torch.tensor(self.euler_axes, dtype=f)
        skew = torch.zeros(axes.shape[:2] + (3, 3), dtype=f)
        skew[..., 0, 1], skew[..., 0, 2] = -axes[..., 2], axes[..., 1]
        skew[..., 1, 0], skew[..., 1, 2] = axes[..., 2], -axes[..., 0]
        skew[..., 2, 0], skew[..., 2, 1] = -axes[..., 1], axes[..., 0]
        # Where each joint's local rotation comes from in cat([I, rotvec, euler]).
        source = np.zeros(NUM_JOINTS, np.int64)
        source[self.rotvec_joints] = 1 + np.arange(len(self.rotvec_joints))
        source[self.euler_joints] = 1 + len(self.rotvec_joints) + np.arange(len(self.euler_joints))
        return {
            "skew": skew, "skew2": skew @ skew,
            "lo": torch.tensor(self.euler_limits[..., 0], dtype=f),
            "hi": torch.tensor(self.euler_limits[..., 1], dtype=f),
            "source": torch.tensor(source),
            "offsets": torch.tensor(self.offsets, dtype=f),
            "group": torch.tensor(self.group),
            "extra_parent": torch.tensor(self.extra_parent),
            "extra_offset": torch.tensor(self.extra_offset, dtype=f),
            "extra_group": torch.tensor(self.extra_group),
        }


def euler_angles(u: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Bounded angles lo + (hi - lo) * sigmoid(u); shapes broadcast, radians."""
    return lo + (hi - lo) * torch.sigmoid(u)


def euler_to_rotmat(angles: torch.Tensor, skew: torch.Tensor, skew2: torch.Tensor) -> torch.Tensor:
    """(B, E, 3) angles about each joint's 3 fixed axes -> (B, E, 3, 3) = R1 R2 R3.

    ``skew``/``skew2``: (E, 3, 3, 3) cross-product matrices of the axes and their
    squares (Rodrigues: R = I + sin t K + (1 - cos t) K^2).
    """
    eye = torch.eye(3, dtype=angles.dtype)
    s = torch.sin(angles)[..., None, None]
    c = (1 - torch.cos(angles))[..., None, None]
    rot = eye + s * skew + c * skew2  # (B, E, 3, 3, 3)
    return rot[:, :, 0] @ rot[:, :, 1] @ rot[:, :, 2]


#: Anatomical coupling of a long finger's joints (the hand-pose prior's means): the DIP
#: flexes about 2/3 as far as the PIP (the tendons of flexor digitorum profundus and the
#: oblique retinacular ligament tie them; Rijpkema & Girard 1991, Lin, Wu & Huang 2000),
#: and in natural grasps the PIP flexes about as far as the MCP (the avatar's own fist
#: reference pose has 83/92/63 degrees at MCP/PIP/DIP, its relaxed hand 12/18/10).
DIP_PER_PIP = 2.0 / 3.0
PIP_PER_MCP = 1.0


def hand_pose_prior(euler: torch.Tensor, slots: torch.Tensor, weights: "FitWeights") -> torch.Tensor:
    """Soft anatomical coupling of the finger joints, summed over frames (a scalar).

    ``euler``: (F, E, 3) bounded Euler angles (radians; axis 1 is flexion toward the
    palm); ``slots``: (3, 8) Euler slots of the MCP, PIP and DIP of each long finger
    (``FitSkeleton.coupling_slots``: hands left, right; fingers index, middle, ring,
    pinky). Penalties, in radian^2 times their weight:

    * ``couple_dip``: (DIP - DIP_PER_PIP x PIP)^2;
    * ``couple_pip``: (PIP - PIP_PER_MCP x MCP)^2;
    * ``couple_adjacent``: (curl_i - curl_(i+1))^2 between neighbouring fingers, with
      curl the mean flexion of a finger's three joints.

    Why: from the front, a finger's flexion is split between its joints in ways 2D
    points barely tell apart (knuckle bent toward the camera vs hooked at PIP/DIP).
    Real fingers do not move their joints independently, so the coupled split is the
    likelier one; the weights are small, so the data still win where they can tell
    (E's hook, I's lone pinky, the discordant fingers of V, W, R, D: hence no
    neighbour coupling by default).

    Measured limit (issue 3): this does not turn MediaPipe's reading of a rendered
    fist into a fist. MediaPipe puts the fist's MCP landmarks on top of the knuckles
    (where the avatar's PIPs are) and its fingertips just below, so a ~40 degree curl
    of every joint (itself coupled) fits those points with a third of the 2D error of
    the true fist (0.05 vs 0.14 hand sizes); weights up to 1.0 leave it there.
    """
    mcp, pip, dip = (euler[:, slots[k], 1] for k in range(3))
    loss = weights.couple_dip * ((dip - DIP_PER_PIP * pip) ** 2).sum()
    loss = loss + weights.couple_pip * ((pip - PIP_PER_MCP * mcp) ** 2).sum()
    curl = ((mcp + pip + dip) / 3).reshape(len(euler), -1, 4)
    return loss + weights.couple_adjacent * ((curl[..., 1:] - curl[..., :-1]) ** 2).sum()


def _inverse_sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 1e-4, 1 - 1e-4)
    return np.log(x / (1 - x))


class _Forward:
    """Differentiable FK over (B frames) for a ``FitSkeleton``."""

    def __init__(self, skeleton: FitSkeleton):
        self.sk = skeleton
        self.c = skeleton.torch_constants()
        self.levels = [torch.tensor(level) for level in skeleton.levels]
        # Position of each joint inside its level, to gather parents from the level above.
        slot = np.zeros(NUM_JOINTS, np.int64)
        for level in skeleton.levels:
            slot[level] = np.arange(len(level))
        self.parent_slot = [torch.tensor(slot[PARENTS[level]]) if i else None
                            for i, level in enumerate(skeleton.levels)]
        order = np.concatenate(skeleton.levels)
        self.unsort = torch.tensor(np.argsort(order))
        self.extra_parent = self.c["extra_parent"]

    def local_rotations(self, rotvec: torch.Tensor, euler: torch.Tensor) -> torch.Tensor:
        """(B, Nr, 3) axis-angles and (B, E, 3) Euler angles -> (B, 55, 3, 3)."""
        batch = rotvec.shape[0]
        eye = torch.eye(3, dtype=rotvec.dtype).expand(batch, 1, 3, 3)
        parts = torch.cat([eye, roma.rotvec_to_rotmat(rotvec),
                           euler_to_rotmat(euler, self.c["skew"], self.c["skew2"])], dim=1)
        return parts[:, self.c["source"]]

    def __call__(self, local: torch.Tensor, scales: torch.Tensor):
        """local (B, 55, 3, 3); scales (3,) per bone group (none, arm, hand).

        Returns world rotations (B, 55, 3, 3) and points (B, 55 + extras, 3) in
        metres (rest pelvis at the origin).
        """
        offsets = self.c["offsets"] * scales[self.c["group"]][:, None]
        rots, poss = [], []
        for i, level in enumerate(self.levels):
            if i == 0:
                rot = local[:, level]
                pos = offsets[level].expand(local.shape[0], -1, -1)
            else:
                pr, pp = rots[-1][:, self.parent_slot[i]], poss[-1][:, self.parent_slot[i]]
                rot = pr @ local[:, level]
                pos = pp + (pr @ offsets[level][None, :, :, None])[..., 0]
            rots.append(rot)
            poss.append(pos)
        world_rot = torch.cat(rots, 1)[:, self.unsort]
        world_pos = torch.cat(poss, 1)[:, self.unsort]
        extra_off = self.c["extra_offset"] * scales[self.c["extra_group"]][:, None]
        extra = world_pos[:, self.extra_parent] + (
            world_rot[:, self.extra_parent] @ extra_off[None, :, :, None])[..., 0]
        return world_rot, torch.cat([world_pos, extra], 1)


# --------------------------------------------------------------------- correspondence

@dataclass(frozen=True)
class _Targets:
    """Keypoints gathered in model-point order. ``points`` (F, K, 3) shoulder widths,
    ``weight`` (F, K) confidence x term weight / unit^2, ``model`` (K,) model point
    index, ``hand`` (K,) which hand (0 none, 1 left, 2 right); each hand's columns are
    its wrist, then 4 points per finger in SMPL-X finger order."""

    points: np.ndarray
    weight: np.ndarray
    model: np.ndarray
    hand: np.ndarray


def _hand_sizes(seq: KeypointSequence) -> dict[str, float]:
    """A robust per-clip hand size per side (shoulder widths): the 90th percentile over
    frames of the wrist -> middle MCP distance (2D when ``is_2d``). The upper
    percentile, not the median, because a turned palm foreshortens the 2D size."""
    sizes = {}
    for side in SIDES:
        size = seq.hand_size(side)
        size = size[np.isfinite(size)]
        sizes[side] = float(np.percentile(size, 90)) if size.size else float("nan")
    return sizes


def _gather_targets(seq: KeypointSequence, sk: FitSkeleton, weights: FitWeights,
                    hand_sizes: Mapping[str, float]) -> _Targets:
    pts, wts, model, hand = [], [], [], []

    def add(points: np.ndarray, conf: np.ndarray, model_index: int, weight: float, which: int):
        pts.append(points)
        wts.append(conf * weight)
        model.append(model_index)
        hand.append(which)

    j = JOINT_INDEX
    body, conf = seq.body, seq.confidence["body"]
    for side in SIDES:
        upper = side.upper()
        for mp, ours in (("SHOULDER", "shoulder"), ("ELBOW", "elbow"), ("WRIST", "wrist"),
                         ("HIP", "hip")):
            k = BODY_INDEX[f"{upper}_{mp}"]
            add(body[:, k], conf[:, k], j[f"{side}_{ours}"], weights.body, 0)
        k = BODY_INDEX[f"{upper}_EYE"]
        add(body[:, k], conf[:, k], j[f"{side}_eye_smplhf"], weights.head, 0)
        k = BODY_INDEX[f"{upper}_EAR"]
        add(body[:, k], conf[:, k], sk.nose_index + (1 if side == "left" else 2), weights.head, 0)
    k = BODY_INDEX["NOSE"]
    add(body[:, k], conf[:, k], sk.nose_index, weights.head, 0)

    for which, side in ((1, "left"), (2, "right")):
        comp = f"{side}_hand"
        hp, hc = seq.points(comp), seq.confidence[comp]
        size = hand_sizes[side]
        if not np.isfinite(size) or size <= 0:
            continue  # never seen: nothing to fit
        unit = 1.0 / size ** 2
        marks = sk.landmark_index[side]
        add(hp[:, HAND_INDEX["WRIST"]], hc[:, HAND_INDEX["WRIST"]], marks[HAND_INDEX["WRIST"]],
            weights.hand_wrist * unit, which)
        for finger in FINGERS:
            for name in MEDIAPIPE_FINGER_POINTS[finger]:
                add(hp[:, HAND_INDEX[name]], hc[:, HAND_INDEX[name]], marks[HAND_INDEX[name]],
                    weights.hand * unit, which)
    return _Targets(
        points=np.stack(pts, 1).astype(np.float32), weight=np.stack(wts, 1).astype(np.float32),
        model=np.array(model, np.int64), hand=np.array(hand, np.int64),
    )


# --------------------------------------------------------------------- the fit

# --------------------------------------------------------------------- hand volume

#: Radius of the spheres that stand for a finger's volume (metres, before hand scale).
FINGER_RADIUS = 0.0075
#: Thumb tip and a finger point closer than this (in hand sizes) in 2D are taken to
#: touch (F, O, E, D): the 2D data cannot say, and touching is what such shapes mean.
CONTACT_2D = 0.2


@dataclass(frozen=True)
class _HandVolume:
    """Spheres along each finger (joint, mid-bone and tip points), as interpolations
    ``(1 - t) * P[a] + t * P[b]`` of model points, and the sphere pairs that must not
    overlap: thumb vs the other fingers and the palm, and neighbouring fingers."""

    a: np.ndarray
    b: np.ndarray
    t: np.ndarray
    pairs: np.ndarray  # (K, 2) sphere indices
    contact_thumb: np.ndarray  # (C,) model point: the thumb tip, per contact candidate
    contact_other: np.ndarray  # (C,) model point: a finger's tip / DIP / PIP
    contact_hand: np.ndarray  # (C,) 0 left, 1 right


def _hand_volume(sk: FitSkeleton) -> _HandVolume:
    a, b, t, pairs = [], [], [], []
    c_thumb, c_other, c_hand = [], [], []

    def sphere(p: int, q: int, frac: float) -> int:
        a.append(p), b.append(q), t.append(frac)
        return len(a) - 1

    for h, side in enumerate(SIDES):
        spheres: dict[str, list[int]] = {}
        wrist = JOINT_INDEX[f"{side}_wrist"]
        for finger in FINGERS:
            chain = [_finger_joint(side, finger, k) for k in (1, 2, 3)] + [sk.tip_index[(side, finger)]]
            ids = []
            for k in range(3):
                ids.append(sphere(chain[k], chain[k + 1], 0.0))
                ids.append(sphere(chain[k], chain[k + 1], 0.5))
            ids.append(sphere(chain[3], chain[3], 0.0))
            spheres[finger] = ids  # j1, m12, j2, m23, j3, m3t, tip
        palm = [sphere(wrist, _finger_joint(side, f, 1), 0.5) for f in ("index", "middle", "ring", "pinky")]
        thumb = spheres["thumb"][2:]  # from thumb2 on; thumb1 sits at the palm's edge
        for finger in ("index", "middle", "ring", "pinky"):
            for i in thumb:
                for k in spheres[finger][1:]:
                    pairs.append((i, k))
        for i in thumb[2:]:
            for k in palm + [spheres[f][0] for f in ("middle", "ring", "pinky")]:
                pairs.append((i, k))
        for f1, f2 in (("index", "middle"), ("middle", "ring"), ("ring", "pinky")):
            for i in spheres[f1][2:]:
                for k in spheres[f2][2:]:
                    pairs.append((i, k))
        for finger in ("index", "middle", "ring", "pinky"):
            for k in (1, 2, 3):
                c_thumb.append(sk.tip_index[(side, "thumb")])
                c_other.append(_finger_joint(side, finger, k) if k > 1 else sk.tip_index[(side, finger)])
                c_hand.append(h)
    return _HandVolume(np.array(a), np.array(b), np.array(t, np.float32), np.array(pairs),
                       np.array(c_thumb), np.array(c_other), np.array(c_hand))


def _contact_mask(seq: KeypointSequence, hand_sizes: Mapping[str, float]) -> np.ndarray:
    """(F, 24) bool, ``_HandVolume.contact_*`` order (2 hands x 4 fingers x tip, PIP,
    DIP): which finger points each thumb tip is pulled onto, per frame. Every fingertip
    within CONTACT_2D hand sizes of the thumb tip in 2D (the tips gather on the thumb in
    O, E and flat O), plus the ONE PIP or DIP nearest to it in 2D if that is within reach.

    One PIP/DIP, not every one within reach (issue 3): a thumb tip is in one place.
    Across a fist (S, A) it lies within CONTACT_2D of several fingers' PIPs and DIPs at
    once, and pulling it onto all of them fought the collision spheres (measured on a
    rendered fist: contact cost 0.78, three times the data term).
    """
    names = {1: "TIP", 2: "PIP", 3: "DIP"}
    out = []
    for side in SIDES:
        comp = f"{side}_hand"
        pts, conf = seq.points(comp)[..., :2], seq.confidence[comp]
        size = hand_sizes[side]
        thumb = HAND_INDEX["THUMB_TIP"]
        gaps, is_tip = [], []
        for finger in ("index", "middle", "ring", "pinky"):
            for k in (1, 2, 3):
                prefix = "PINKY" if finger == "pinky" else f"{finger.upper()}_FINGER"
                other = HAND_INDEX[f"{prefix}_{names[k]}"]
                gap = np.linalg.norm(pts[:, thumb] - pts[:, other], axis=-1)
                seen = (conf[:, thumb] > 0) & (conf[:, other] > 0)
                gaps.append(np.where(seen, gap, np.inf))
                is_tip.append(k == 1)
        gaps, is_tip = np.stack(gaps, 1), np.array(is_tip)  # (F, 12), (12,)
        joints = np.where(is_tip, np.inf, gaps)
        nearest = (joints == joints.min(axis=1, keepdims=True)) & ~is_tip
        nearest &= np.cumsum(nearest, axis=1) == 1  # ties: the first only
        reach = CONTACT_2D * size if np.isfinite(size) else -np.inf
        out.append((is_tip | nearest) & (gaps < reach))
    return np.concatenate(out, 1)


def _check_sequence(seq: KeypointSequence) -> None:
    if not isinstance(seq, KeypointSequence):
        raise MotionError(f"fit_keypoints: expected a KeypointSequence, got {type(seq).__name__}")
    if seq.metadata.units != "shoulder_width":
        raise MotionError(
            f"fit_keypoints: keypoints of {seq.metadata.source or 'the sequence'} are in "
            f"{seq.metadata.units!r}; expected 'shoulder_width' (see engine.data.pose_reader)")
    conf = seq.confidence["body"]
    both = (conf[:, BODY_INDEX["LEFT_SHOULDER"]] > 0) & (conf[:, BODY_INDEX["RIGHT_SHOULDER"]] > 0)
    if not both.any():
        raise MotionError(
            f"fit_keypoints: {seq.metadata.source or 'the sequence'}: field body: both shoulders "
            "are never seen; expected them on at least one frame to place the avatar")


def _euler_slot(sk: FitSkeleton, joint: str) -> int:
    return int(np.flatnonzero(sk.euler_joints == JOINT_INDEX[joint])[0])


def _fill_nearest(known: np.ndarray) -> np.ndarray | None:
    """(F,) bool -> (F,) index of the nearest known frame (None when none is known)."""
    where = np.flatnonzero(known)
    if not where.size:
        return None
    frames = np.arange(len(known))
    return where[np.abs(frames[:, None] - where[None]).argmin(axis=1)]


def _rotation_between_frames(u0, n0, u, n) -> np.ndarray:
    """The rotation taking the orthonormal pair (u0, n0) to (u, n); (3, 3)."""
    a = np.stack([u0, n0, np.cross(u0, n0)], axis=1)
    b = np.stack([u, n, np.cross(u, n)], axis=1)
    return b @ a.T


def _initial_pose(seq: KeypointSequence, sk: FitSkeleton, fk: "_Forward", targets: _Targets,
                  dims: int) -> tuple[np.ndarray, np.ndarray]:
    """A starting pose close to the data, so a few hundred Adam steps suffice.

    Arms: two-bone inverse kinematics from the 2D shoulder, elbow and wrist (depth
    from the bone lengths, elbow and hand in front of the body, as in signing).
    Hands: the best of a grid of forearm twists and wrist flexions, scored by the
    reprojection error of the 21 hand points with relaxed fingers (this picks which
    side of the palm faces the camera, the hardest thing for a local optimiser).
    Returns (rotvec (F, Nr, 3), euler angles (F, E, 3)) in radians.
    """
    from scipy.spatial.transform import Rotation

    num_frames = seq.num_frames
    rotvec = np.repeat(sk.relaxed_rotvec[None], num_frames, 0)
    euler = np.repeat(sk.euler_relaxed[None], num_frames, 0)
    rest, j = sk.rest_joints, JOINT_INDEX
    width, centre = sk.shoulder_width, sk.shoulder_mid
    body, bconf = seq.body, seq.confidence["body"]
    rotvec_slot = {int(joint): i for i, joint in enumerate(sk.rotvec_joints)}
    for side in SIDES:
        up = side.upper()
        hand, hconf = seq.points(f"{side}_hand"), seq.confidence[f"{side}_hand"]
        wrist_kp = np.where((hconf[:, 0] > 0)[:, None], hand[:, 0],
                            body[:, BODY_INDEX[f"{up}_WRIST"]])
        wrist_seen = (hconf[:, 0] > 0) | (bconf[:, BODY_INDEX[f"{up}_WRIST"]] > 0.5)
        nearest = _fill_nearest(wrist_seen)
        if nearest is None:
            continue
        elbow_kp = body[:, BODY_INDEX[f"{up}_ELBOW"]]
        elbow_seen = bconf[:, BODY_INDEX[f"{up}_ELBOW"]] > 0.3
        shoulder = rest[j[f"{side}_shoulder"]]
        elbow_rest, wrist_rest = rest[j[f"{side}_elbow"]], rest[j[f"{side}_wrist"]]
        upper_len = np.linalg.norm(elbow_rest - shoulder)
        fore_len = np.linalg.norm(wrist_rest - elbow_rest)
        u0 = _unit(elbow_rest - shoulder)
        n0 = _unit(np.array([0.0, 0.0, 1.0]) - u0[2] * u0)
        e_slot = _euler_slot(sk, f"{side}_elbow")
        flex_lo, flex_hi = sk.euler_limits[e_slot, 0]
        for f in range(num_frames):
            g = nearest[f]
            w2 = wrist_kp[g, :2] * width + centre[:2]
            if elbow_seen[g]:
                e2 = elbow_kp[g, :2] * width + centre[:2]
            else:  # the elbow hangs below the shoulder-wrist midpoint
                e2 = (shoulder[:2] + w2) / 2 + np.array([0.0, -0.5 * upper_len])
            d = e2 - shoulder[:2]
            if np.linalg.norm(d) > upper_len:
                d = d / np.linalg.norm(d) * upper_len
            elbow = np.r_[shoulder[:2] + d, shoulder[2] + math.sqrt(max(upper_len ** 2 - d @ d, 0.0))]
            d = w2 - elbow[:2]
            if np.linalg.norm(d) > fore_len:
                d = d / np.linalg.norm(d) * fore_len
            wrist = np.r_[elbow[:2] + d, elbow[2] + math.sqrt(max(fore_len ** 2 - d @ d, 0.0))]
            u, fore = _unit(elbow - shoulder), _unit(wrist - elbow)
            n = fore - (fore @ u) * u
            n = _unit(n) if np.linalg.norm(n) > 1e-3 else _unit(np.cross(u, np.cross(n0, u)))
            rot = _rotation_between_frames(u0, n0, u, n)
            rotvec[f, rotvec_slot[j[f"{side}_shoulder"]]] = Rotation.from_matrix(rot).as_rotvec()
            euler[f, e_slot, 0] = np.clip(math.acos(np.clip(fore @ u, -1, 1)), flex_lo, flex_hi)

    # Hand grid, both hands at once: (forearm twist x wrist flexion x curl level)
    # hypotheses x frames in one batched FK. Fingers are independent given the wrist,
    # so each wrist hypothesis is scored with each finger at its own best curl level;
    # without curls a fist would be "explained" by straight fingers pointing at the
    # camera, with the palm turned the wrong way.
    twists = np.linspace(-np.pi, np.pi, 12, endpoint=False)
    flexes = np.array([-35.0, 0.0, 35.0]) * D
    levels = np.array([0.0, 0.35, 0.7, 1.0])
    wrist_grid = np.array([(t, fl) for t in twists for fl in flexes])
    grid = np.array([(t, fl, lv) for t, fl in wrist_grid for lv in levels])
    hyp = len(grid)
    curl = {"finger": np.array([[0, 85, 0], [0, 100, 0], [0, 70, 0]]) * D,
            "thumb": np.array([[0, 30, 0], [0, 45, 0], [0, 60, 0]]) * D}
    euler_h = np.repeat(euler[None], hyp, 0)
    for side in SIDES:
        e_slot, w_slot = _euler_slot(sk, f"{side}_elbow"), _euler_slot(sk, f"{side}_wrist")
        euler_h[:, :, e_slot, 1] = grid[:, None, 0] / 2
        euler_h[:, :, w_slot, 0] = grid[:, None, 0] / 2
        euler_h[:, :, w_slot, 1] = grid[:, None, 1]
        for finger in FINGERS:
            shape = curl["thumb" if finger == "thumb" else "finger"]
            for k in (1, 2, 3):
                slot = _euler_slot(sk, f"{side}_{finger}{k}")
                lo_k, hi_k = sk.euler_limits[slot, :, 0], sk.euler_limits[slot, :, 1]
                euler_h[:, :, slot] = np.clip(
                    sk.euler_relaxed[slot] + grid[:, None, 2, None] * shape[k - 1], lo_k, hi_k)
    with torch.no_grad():
        rv = torch.tensor(np.repeat(rotvec[None], hyp, 0).reshape(hyp * num_frames, -1, 3),
                          dtype=torch.float32)
        eu = torch.tensor(euler_h.reshape(hyp * num_frames, -1, 3), dtype=torch.float32)
        _, points = fk(fk.local_rotations(rv, eu), torch.ones(3))
        proj = ((points[..., :dims] - torch.tensor(centre[:dims], dtype=torch.float32)) / width).numpy()
    proj = proj.reshape(len(wrist_grid), len(levels), num_frames, -1, dims)
    frames = np.arange(num_frames)
    for which, side in ((1, "left"), (2, "right")):
        cols = np.flatnonzero(targets.hand == which)
        if not cols.size:
            continue
        seen = targets.weight[:, cols].sum(1) > 0
        nearest = _fill_nearest(seen)
        if nearest is None:
            continue
        # Compare shapes relative to the wrist: the arm's IK already placed the hand.
        model = proj[:, :, :, targets.model[cols]]
        model = model - model[:, :, :, :1]
        kp = targets.points[:, cols, :dims] - targets.points[:, cols[:1], :dims]
        point_err = targets.weight[None, None, :, cols] * ((model - kp) ** 2).sum(-1)  # (W, L, F, K)
        # cols are: wrist, then per finger (SMPL-X order) its 4 points.
        finger_err = point_err[..., 1:].reshape(point_err.shape[:3] + (len(FINGERS), 4)).sum(-1)
        best_level = finger_err.argmin(1)  # (W, F, fingers)
        score = point_err[:, 0, :, 0] + finger_err.min(1).sum(-1)  # (W, F)
        best = score.argmin(0)[nearest]  # (F,)
        e_slot, w_slot = _euler_slot(sk, f"{side}_elbow"), _euler_slot(sk, f"{side}_wrist")
        flat = best * len(levels)  # level 0 of the chosen wrist hypothesis
        euler[:, e_slot] = euler_h[flat, frames, e_slot]
        euler[:, w_slot] = euler_h[flat, frames, w_slot]
        for n, finger in enumerate(FINGERS):
            level = best_level[best, nearest, n]
            for k in (1, 2, 3):
                slot = _euler_slot(sk, f"{side}_{finger}{k}")
                euler[:, slot] = euler_h[best * len(levels) + level, frames, slot]
    return rotvec, euler


def fit_keypoints(seq: KeypointSequence, *, body=None, iterations: int = 150,
                  progress: Progress | None = None, cancel: CancelToken | None = None,
                  weights: FitWeights | None = None, learning_rate: float = 0.06,
                  landmarks: str = DEFAULT_LANDMARKS, starts: int = 1) -> FitResult:
    """Fit SMPL-X joint rotations on ``body`` (default: the embedded avatar) to ``seq``.

    See the module docstring for the model. ``iterations``: Adam steps over all frames
    at once, after an initial pose from arm inverse kinematics and a wrist grid search.
    ``progress(done, total, message)`` is called every few steps (``total`` is
    ``iterations``; with two starts each start counts for half);
    ``cancel.raise_if_cancelled()`` is checked every step (raises
    ``engine.jobs.Cancelled``). ``landmarks``: how MediaPipe's hand points sit on the
    skeleton (``LANDMARK_MODELS``, see ``FitSkeleton``). ``starts``: 1 (default) or 2
    initial poses. With 2 and ``landmarks="calibrated"``, the wrist/curl grid is also
    scored with the joint-centre landmarks; both starts are optimised with the
    calibrated model and the one with the lower final loss is kept (when both grids
    agree only one is optimised). Measured for issue 3 on bench/known_truth.py: mean
    finger-joint error 13.0 -> 10.8 degrees (the calibrated grid alone turns the
    wrist the wrong way on A, C and L) at about twice the time, but the rendered fist
    is then lost to a half-curl (which has the lower loss), and on the 26 ASL clips
    its 2D error p95 is worse than the default's (0.30 vs 0.26 hand sizes); so it is
    opt-in.
    ``quality["start"]`` says which start won (0: the model's own grid, 1: the
    joint-centre grid), ``quality["starts"]`` how many ran, ``quality["loss"]`` the
    final loss. Raises ``MotionError`` for a sequence that cannot be placed (no
    shoulders) or is not in shoulder widths; ``ValueError`` for a bad ``landmarks``,
    ``starts`` or ``iterations``.
    """
    _check_sequence(seq)
    if iterations < 1:
        raise ValueError(f"fit_keypoints: iterations must be >= 1, got {iterations}")
    if body is None:
        from engine.body.default_avatar import default_avatar
        body = default_avatar()
    weights = weights or FitWeights()
    progress = progress or (lambda done, total, message="": None)
    started = time.perf_counter()
    progress(0, iterations, "fitting keypoints: initial pose")
    if landmarks not in LANDMARK_MODELS:
        raise ValueError(f"fit_keypoints: landmarks must be one of {LANDMARK_MODELS}, "
                         f"got {landmarks!r}")
    if isinstance(starts, bool) or starts not in (1, 2):
        raise ValueError(f"fit_keypoints: starts must be 1 or 2, got {starts!r}")
    sk = _skeleton_for(body, landmarks)
    fk = _Forward(sk)
    hand_sizes = _hand_sizes(seq)
    targets = _gather_targets(seq, sk, weights, hand_sizes)
    dims = 2 if seq.metadata.is_2d else 3
    num_frames = seq.num_frames

    with torch.enable_grad():
        initial = [_initial_pose(seq, sk, fk, targets, dims)]
        if starts == 2 and landmarks != "joints":
            # The same grid scored with joint-centre landmarks: on the calibrated model's
            # own grid the wrist's twist comes out wrong on some letters (A, C, L), and
            # the data term alone does not undo a wrong palm facing (see _initial_pose).
            alt = _skeleton_for(body, "joints")
            alt_targets = _gather_targets(seq, alt, weights, hand_sizes)
            alt_pose = _initial_pose(seq, alt, _Forward(alt), alt_targets, dims)
            if not all(np.array_equal(a, b) for a, b in zip(initial[0], alt_pose)):
                initial.append(alt_pose)
        if cancel is not None:
            cancel.raise_if_cancelled()
        best = None
        for n, (rotvec0, euler0) in enumerate(initial):
            def report(done, total, message, n=n):
                progress((n * total + done) // len(initial), total, message)

            run = _optimise(seq, sk, fk, targets, weights, dims, rotvec0, euler0, iterations,
                            learning_rate, hand_sizes, report, cancel)
            if best is None or run[3] < best[3]:
                best = run + (n,)  # (pose, projected, scales, loss, start)
    pose, projected, scales, loss, chosen = best
    motion = _motion_from_pose(pose, seq.fps)
    per_frame, quality, point_errors = hand_quality(seq, projected, sk, hand_sizes, dims)
    quality.update(
        camera_scale=float(scales[0]), arm_scale=float(scales[1]), hand_scale=float(scales[2]),
        iterations=float(iterations), seconds=time.perf_counter() - started,
        frames=float(num_frames), loss=float(loss), start=float(chosen),
        starts=float(len(initial)),
    )
    return FitResult(motion=motion, per_frame_error=per_frame, quality=quality,
                     hand_point_errors=point_errors)


def _optimise(seq: KeypointSequence, sk: FitSkeleton, fk: "_Forward", targets: _Targets,
              weights: FitWeights, dims: int, rotvec0: np.ndarray, euler0: np.ndarray,
              iterations: int, learning_rate: float, hand_sizes: Mapping[str, float],
              progress: Progress, cancel: CancelToken | None):
    """Adam over all frames from one initial pose. Returns (pose (F, 55, 3) axis-angle
    float32, projected model points (F, P, dims) in the keypoint frame, scales (3,)
    camera/arm/hand, final loss (float) of the returned parameters)."""
    num_frames = seq.num_frames
    target = torch.tensor(targets.points[..., :dims])
    weight = torch.tensor(targets.weight)
    model_idx = torch.tensor(targets.model)
    lo, hi = fk.c["lo"], fk.c["hi"]
    free = torch.tensor(sk.euler_free)

    rotvec = torch.tensor(rotvec0, dtype=torch.float32).requires_grad_(True)
    span = sk.euler_limits[..., 1] - sk.euler_limits[..., 0]
    u0 = np.where(sk.euler_free, _inverse_sigmoid(
        (euler0 - sk.euler_limits[..., 0]) / np.where(span > 0, span, 1.0)), 0.0)
    euler_u = torch.tensor(u0, dtype=torch.float32).requires_grad_(True)
    log_scale = torch.zeros(3, requires_grad=True)  # camera, arm bones, hand bones
    offset = torch.zeros(dims, requires_grad=True)

    centre = torch.tensor(sk.shoulder_mid[:dims], dtype=torch.float32)
    width = sk.shoulder_width
    relaxed_rotvec = torch.tensor(sk.relaxed_rotvec, dtype=torch.float32)
    relaxed_euler = torch.tensor(sk.euler_relaxed, dtype=torch.float32)
    prior_rotvec = torch.tensor(sk.prior_rotvec, dtype=torch.float32)
    prior_euler = torch.tensor(sk.prior_euler, dtype=torch.float32)
    frames_scale = 1.0 / num_frames
    zero = torch.zeros(())
    volume = _hand_volume(sk)
    vol_a, vol_b = torch.tensor(volume.a), torch.tensor(volume.b)
    vol_t = torch.tensor(volume.t)[:, None]
    pair_i, pair_j = torch.tensor(volume.pairs[:, 0]), torch.tensor(volume.pairs[:, 1])
    contact = torch.tensor(_contact_mask(seq, hand_sizes), dtype=torch.float32)
    c_thumb, c_other = torch.tensor(volume.contact_thumb), torch.tensor(volume.contact_other)
    couple_slots = torch.tensor(sk.coupling_slots)

    def evaluate():
        euler = torch.where(free, euler_angles(euler_u, lo, hi), zero)
        local = fk.local_rotations(rotvec, euler)
        bone_scale = torch.exp(torch.cat([torch.zeros(1), log_scale[1:]]))
        _, points = fk(local, bone_scale)
        projected = torch.exp(log_scale[0]) * (points[..., :dims] - centre) / width + offset
        return euler, points, projected

    optimiser = torch.optim.Adam([rotvec, euler_u, log_scale, offset], lr=learning_rate)
    # Warm up: the initial pose is already close, and Adam's first steps move every
    # parameter by about the full step size, which would throw the chain off it.
    # Decay at the end so the fit settles instead of jittering.
    warmup = max(1, iterations // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda k: min(1.0, (k + 1) / warmup) * (1.0 if k < 0.7 * iterations else 0.3))
    report_every = max(1, iterations // 20)

    def total_loss():
        """(loss, euler, projected) of the current parameters."""
        euler, points, projected = evaluate()
        residual = projected[:, model_idx] - target
        data = (weight * (residual ** 2).sum(-1)).sum() * frames_scale
        prior = ((prior_rotvec[:, None] * (rotvec - relaxed_rotvec) ** 2).sum()
                 + (prior_euler[:, None] * (euler - relaxed_euler) ** 2).sum()) * frames_scale
        loss = data + prior + weights.scale * (log_scale ** 2).sum() + 0.1 * (offset ** 2).sum()
        if num_frames > 1:
            velocity = (((rotvec[1:] - rotvec[:-1]) ** 2).sum()
                        + ((euler[1:] - euler[:-1]) ** 2).sum())
            loss = loss + weights.velocity * velocity * frames_scale
        if num_frames > 2:
            moving = points / width
            accel = moving[2:] - 2 * moving[1:-1] + moving[:-2]
            loss = loss + weights.acceleration * (accel ** 2).sum() * frames_scale
        # Hand volume: fingers must not pass through each other (resolves depth in
        # 2D: a thumb seen over curled fingers lies in front of them, not inside),
        # and thumb tips that touch another finger in 2D touch it in 3D.
        thickness = 2 * FINGER_RADIUS * torch.exp(log_scale[2])
        spheres = points[:, vol_a] * (1 - vol_t) + points[:, vol_b] * vol_t
        gap = (spheres[:, pair_i] - spheres[:, pair_j]).norm(dim=-1)
        overlap = torch.relu(thickness - gap) / thickness
        loss = loss + weights.collision * (overlap ** 2).sum() * frames_scale
        apart = (points[:, c_thumb] - points[:, c_other]).norm(dim=-1)
        far = torch.relu(apart - thickness) / thickness
        loss = loss + weights.contact * (contact * far ** 2).sum() * frames_scale
        return loss + hand_pose_prior(euler, couple_slots, weights) * frames_scale, euler, projected

    for step in range(iterations):
        if cancel is not None:
            cancel.raise_if_cancelled()
        optimiser.zero_grad()
        loss = total_loss()[0]
        loss.backward()
        optimiser.step()
        schedule.step()
        if (step + 1) % report_every == 0 or step + 1 == iterations:
            progress(step + 1, iterations, f"fitting keypoints (loss {loss.item():.4g})")

    with torch.no_grad():
        final_loss, euler, projected = total_loss()  # one evaluation gives both
        final_loss = float(final_loss)
        local = fk.local_rotations(rotvec, euler)
        pose = roma.rotmat_to_rotvec(local).numpy().astype(np.float32)
        projected = projected.numpy()
        scales = np.exp(log_scale.numpy())
    return pose, projected, scales, final_loss


def _motion_from_pose(pose: np.ndarray, fps: float) -> Motion:
    """(F, 55, 3) axis-angle -> Motion (root at rest)."""
    j = JOINT_INDEX
    return Motion.from_arrays({
        "global_orient": np.zeros((len(pose), 3), np.float32),
        "body_pose": pose[:, 1:22],
        "jaw_pose": pose[:, j["jaw"]],
        "left_hand_pose": pose[:, j["left_index1"]:j["left_index1"] + 15],
        "right_hand_pose": pose[:, j["right_index1"]:j["right_index1"] + 15],
    }, fps=fps)


def model_hand_points(skeleton: FitSkeleton, side: str) -> np.ndarray:
    """(21,) model point indices in MediaPipe hand order for one hand: the modelled
    landmarks (``FitSkeleton.landmark_index``, see its ``landmarks`` choice)."""
    return skeleton.landmark_index[side]


def hand_quality(seq: KeypointSequence, projected: np.ndarray, skeleton: FitSkeleton,
                 hand_sizes: Mapping[str, float], dims: int = 2):
    """Reprojection error of the hand keypoints, in hand sizes.

    ``projected``: (F, P, dims) model points mapped into the keypoint frame. Each seen
    hand point's error is its x-y (or x-y-z) distance to the keypoint divided by the
    clip's hand size (``_hand_sizes``: 90th percentile of wrist -> middle MCP).
    Returns ``(per_frame (F,) float32 mean over the frame's seen hand points, NaN when
    none, quality dict, errors (F, 2, 21))`` with ``hand_error_median`` and ``hand_error_p95`` over all
    seen hand points of the clip (NaN when no hand is seen) and ``hand_points``.
    """
    errors = np.full((seq.num_frames, 2, 21), np.nan)
    for h, side in enumerate(SIDES):
        size = hand_sizes[side]
        if not np.isfinite(size) or size <= 0:
            continue
        comp = f"{side}_hand"
        kp = seq.points(comp)[..., :dims]
        seen = seq.confidence[comp] > 0
        model = projected[:, model_hand_points(skeleton, side)]
        err = np.linalg.norm(model - kp, axis=-1) / size
        errors[:, h] = np.where(seen, err, np.nan)
    flat = errors[np.isfinite(errors)]
    seen_count = np.isfinite(errors).sum(axis=(1, 2))
    total = np.where(np.isfinite(errors), errors, 0.0).sum(axis=(1, 2))
    per_frame = np.where(seen_count > 0, total / np.maximum(seen_count, 1), np.nan)
    quality = {
        "hand_error_median": float(np.median(flat)) if flat.size else float("nan"),
        "hand_error_p95": float(np.percentile(flat, 95)) if flat.size else float("nan"),
        "hand_points": float(flat.size),
    }
    return per_frame.astype(np.float32), quality, errors.astype(np.float32)


@lru_cache(maxsize=4)
def _skeleton_for(body, landmarks: str = "joints") -> FitSkeleton:
    """One FitSkeleton per body model object and landmark model (building it scans the
    mesh once); body models are immutable after loading, so caching by identity is safe."""
    return FitSkeleton(body, landmarks)
