"""``FitSkeleton``: what the fitter needs from a body model, as numpy constants.

The model points the keypoints are compared with (joints, fingertips, head points, and
optionally MediaPipe's calibrated hand landmarks), the bone-scale groups, and each
moving joint's parametrisation: free axis-angle with a prior (spine, neck, head,
collars, shoulders) or bounded Euler angles about anatomical axes (elbows, wrists,
fingers). The model is described in docs/fitting.md.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from engine.body.skeleton import JOINT_INDEX, NUM_JOINTS
from engine.data.fit.constants import (
    ARM_DOWN, ELBOW_LIMITS, FINGER_LIMITS, FINGERS, LANDMARK_MODELS, LANDMARK_OFFSETS_FILE,
    LONG_FINGERS, PINKY_MCP_LIMITS, RELAXED_ELBOW, RELAXED_FINGER, RELAXED_THUMB, RELAXED_WRIST,
    SIDES, THUMB_FLEXION_TARGET_DEPTH, THUMB_LIMITS, WRIST_LIMITS, D,
)
from engine.body.capsules import body_capsules
from engine.data.keypoints import HAND_POINT_NAMES
from engine.motion.errors import ProjectFileError
from engine.motion.motion import Motion

#: Joints with a free axis-angle rotation and a Gaussian prior, in parameter order.
ROTVEC_JOINTS = ("spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_collar",
                 "left_shoulder", "right_shoulder")
#: Average human head points from the eyes' midpoint (metres: nose, left ear, right
#: ear), for a body whose head mesh cannot be searched.
_NOSE_FROM_EYES = (0.0, -0.035, 0.03)
_LEFT_EAR_FROM_EYES = (0.07, -0.02, -0.08)
_RIGHT_EAR_FROM_EYES = (-0.07, -0.02, -0.08)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def finger_joint(side: str, finger: str, k: int) -> int:
    """Skeleton index of ``{side}_{finger}{k}``, k = 1 (base) .. 3."""
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


def _head_points(rest: np.ndarray, head_vertices: np.ndarray) -> tuple[np.ndarray, ...]:
    """(nose, left ear, right ear) on the head mesh, metres: the most forward vertex
    near the midline below the eyes, and the outermost ones at ear height."""
    j = JOINT_INDEX
    eyes = (rest[j["left_eye_smplhf"]] + rest[j["right_eye_smplhf"]]) / 2
    fallback = tuple(eyes + np.array(offset) for offset in
                     (_NOSE_FROM_EYES, _LEFT_EAR_FROM_EYES, _RIGHT_EAR_FROM_EYES))
    if len(head_vertices) <= 50:  # a body without a head mesh
        return fallback
    near_mid = head_vertices[np.abs(head_vertices[:, 0]) < 0.01]
    band = near_mid[(near_mid[:, 1] < eyes[1]) & (near_mid[:, 1] > eyes[1] - 0.07)]
    nose = band[band[:, 2].argmax()] if len(band) else fallback[0]
    ear_band = head_vertices[np.abs(head_vertices[:, 1] - (eyes[1] - 0.02)) < 0.015]
    left_ear = ear_band[ear_band[:, 0].argmax()] if len(ear_band) else fallback[1]
    right_ear = ear_band[ear_band[:, 0].argmin()] if len(ear_band) else fallback[2]
    return nose, left_ear, right_ear


class FitSkeleton:
    """Everything the fitter needs from a body model, as numpy constants.

    Points: the 55 joints, then 10 fingertips (left hand's 5 then right's, SMPL-X
    finger order), then 3 head landmarks (nose, left ear, right ear), then, when
    ``landmarks == "calibrated"``, the 2 x 21 MediaPipe hand landmarks (left hand then
    right, MediaPipe order) as points on bones. Metres, rest pose. Extra points ride on
    a joint: ``extra_parent`` (X,) and ``extra_offset`` (X, 3) in its rest frame.

    ``landmarks``: one of ``LANDMARK_MODELS``. "calibrated" puts each MediaPipe hand
    landmark on a bone at an offset in that bone's frame (``load_landmark_offsets``:
    calibrated on the default avatar, scaled by this body's hand length, mirrored for
    the left hand), as marker-based capture models skin markers; "joints" at the joint
    centres (tips at the bone ends). ``offsets_path``: another calibration file.
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
        #: (body capsules, limb capsules) of ``body`` (``engine.body.capsules``) for the
        #: loss that keeps the forearms out of the trunk, neck and head.
        self.capsules = body_capsules(body)
        self.shoulder_mid = (rest[j["left_shoulder"]] + rest[j["right_shoulder"]]) / 2
        self.shoulder_width = float(np.linalg.norm(rest[j["left_shoulder"]] - rest[j["right_shoulder"]]))

        # Extra points rigidly attached to a joint: (joint, offset in the rest frame).
        extra_parent, extra_offset = [], []
        self.tip_index: dict[tuple[str, str], int] = {}
        for side in SIDES:
            for finger in FINGERS:
                j2, j3 = finger_joint(side, finger, 2), finger_joint(side, finger, 3)
                bone = unit(rest[j3] - rest[j2])
                mine = rest_vertices[owner == j3]
                if len(mine):
                    length = float(((mine - rest[j3]) @ bone).max())
                else:  # no vertex on the last phalanx: use the middle phalanx's length
                    length = float(np.linalg.norm(rest[j3] - rest[j2]))
                self.tip_index[(side, finger)] = NUM_JOINTS + len(extra_parent)
                extra_parent.append(j3)
                extra_offset.append(bone * length)
        head = j["head"]
        self.nose_index = NUM_JOINTS + len(extra_parent)
        for point in _head_points(rest, rest_vertices[owner == head]):
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
                for finger in ("thumb", "index", "middle", "ring", "pinky"):  # MediaPipe order
                    ids += [finger_joint(side, finger, k) for k in (1, 2, 3)]
                    ids.append(self.tip_index[(side, finger)])
                self.landmark_index[side] = np.array(ids, np.int64)
        self.extra_parent = np.array(extra_parent, np.int64)
        self.extra_offset = np.array(extra_offset, np.float64)
        self.num_points = NUM_JOINTS + len(extra_parent)

        # Which scale group each bone belongs to (0 none, 1 arm, 2 hand); the extras
        # belong to their parent's group.
        group = np.zeros(NUM_JOINTS, np.int64)
        for side in SIDES:
            group[[j[f"{side}_elbow"], j[f"{side}_wrist"]]] = 1
            for finger in FINGERS:
                for k in (1, 2, 3):
                    group[finger_joint(side, finger, k)] = 2
        self.group = group
        self.extra_group = group[self.extra_parent].copy()
        # Landmarks scale with the hand (the wrist's too: it rides on the wrist joint,
        # whose own offset from the elbow is an arm bone).
        self.extra_group[landmark_extras] = 2
        self._setup_joints()

    # -- which joints move, and how ---------------------------------------------------
    def _setup_joints(self) -> None:
        rest, j = self.rest_joints, JOINT_INDEX
        self.rotvec_joints = np.array([j[n] for n in ROTVEC_JOINTS], np.int64)
        #: (Nr,) which ``FitWeights.prior_*`` weighs each axis-angle joint's prior.
        self.rotvec_prior = np.array(["prior_spine" if "spine" in n else "prior_collar"
                                      if "collar" in n else "prior_body" for n in ROTVEC_JOINTS])
        relaxed_rotvec = np.zeros((len(self.rotvec_joints), 3))
        relaxed_rotvec[ROTVEC_JOINTS.index("left_shoulder")] = (0, 0, -ARM_DOWN)
        relaxed_rotvec[ROTVEC_JOINTS.index("right_shoulder")] = (0, 0, ARM_DOWN)
        self.relaxed_rotvec = relaxed_rotvec

        euler_joints, axes, limits, relaxed, kinds = [], [], [], [], []

        def add(joint: int, joint_axes, joint_limits, joint_relaxed, kind: str) -> None:
            euler_joints.append(joint)
            axes.append(joint_axes)
            limits.append(joint_limits)
            relaxed.append(joint_relaxed)
            kinds.append(kind)

        for side in SIDES:
            sign = 1.0 if side == "right" else -1.0
            wrist = rest[j[f"{side}_wrist"]]
            index1, pinky1 = rest[j[f"{side}_index1"]], rest[j[f"{side}_pinky1"]]
            # Palm normal (the side the fingers flex toward): -Y on both rest hands.
            palm = unit(sign * np.cross(index1 - wrist, pinky1 - wrist))
            forearm = unit(wrist - rest[j[f"{side}_elbow"]])
            # The elbow flexes the forearm forward (+Z).
            elbow_flex = unit(np.cross(forearm, np.array([0.0, 0.0, 1.0])))
            add(j[f"{side}_elbow"], (elbow_flex, forearm, np.cross(elbow_flex, forearm)),
                ELBOW_LIMITS, RELAXED_ELBOW, "arm")
            hand_dir = unit(rest[j[f"{side}_middle1"]] - wrist)
            wrist_flex = unit(np.cross(hand_dir, palm))
            add(j[f"{side}_wrist"], (hand_dir, wrist_flex, np.cross(wrist_flex, hand_dir)),
                WRIST_LIMITS, RELAXED_WRIST, "arm")

            for finger in FINGERS:
                for k in (1, 2, 3):
                    joint = finger_joint(side, finger, k)
                    if k < 3:
                        bone = unit(rest[finger_joint(side, finger, k + 1)] - rest[joint])
                    else:
                        bone = unit(rest[joint] - rest[finger_joint(side, finger, 2)])
                    if finger == "thumb":
                        target = pinky1 + THUMB_FLEXION_TARGET_DEPTH * palm - rest[joint]
                        toward = unit(target - (target @ bone) * bone)
                        joint_limits, joint_relaxed = THUMB_LIMITS[k], RELAXED_THUMB[k]
                    else:
                        toward = unit(palm - (palm @ bone) * bone)
                        joint_limits = (PINKY_MCP_LIMITS if (finger == "pinky" and k == 1)
                                        else FINGER_LIMITS[k])
                        joint_relaxed = RELAXED_FINGER[k]
                    # Abduction (outermost, so the flexion plane follows a spread
                    # finger), flexion toward the palm, twist about the bone.
                    flex = unit(np.cross(bone, toward))
                    add(joint, (np.cross(flex, bone), flex, bone), joint_limits, joint_relaxed,
                        "finger")
        self.euler_joints = np.array(euler_joints, np.int64)
        self.euler_axes = np.array(axes, np.float64)            # (E, 3 axes, 3)
        self.euler_limits = np.array(limits, np.float64) * D    # (E, 3, 2) radians
        self.euler_relaxed = np.array(relaxed, np.float64) * D  # (E, 3)
        self.euler_kinds = np.array(kinds)
        # Angles whose range is empty are locked (pure hinges); keep them at 0.
        self.euler_free = self.euler_limits[..., 1] > self.euler_limits[..., 0]
        # Euler slots of each long finger's MCP, PIP and DIP, (2 hands x 4 fingers,)
        # each, hands left then right, fingers thumb side first, for the hand-pose prior.
        slot_of = {int(joint): i for i, joint in enumerate(self.euler_joints)}
        self.coupling_slots = np.array(
            [[[slot_of[finger_joint(side, finger, k)] for finger in LONG_FINGERS]
              for side in SIDES] for k in (1, 2, 3)], np.int64).reshape(3, -1)

    def euler_slot(self, joint: str) -> int:
        """Index of a named joint among the Euler-parametrised ones."""
        return int(np.flatnonzero(self.euler_joints == JOINT_INDEX[joint])[0])

    def prior_weights(self, weights) -> tuple[np.ndarray, np.ndarray]:
        """Per-joint prior weights from a ``FitWeights``: (Nr,) for the axis-angle
        joints and (E,) for the Euler ones, per radian^2."""
        rotvec = np.array([getattr(weights, name) for name in self.rotvec_prior], np.float64)
        euler = np.where(self.euler_kinds == "finger", weights.prior_finger, weights.prior_arm_euler)
        return rotvec, euler


def model_hand_points(skeleton: FitSkeleton, side: str) -> np.ndarray:
    """(21,) model point indices in MediaPipe hand order for one hand: the modelled
    landmarks (``FitSkeleton.landmark_index``, see its ``landmarks`` choice)."""
    return skeleton.landmark_index[side]


@lru_cache(maxsize=4)
def skeleton_for(body, landmarks: str = "joints") -> FitSkeleton:
    """One FitSkeleton per body model object and landmark model (building it scans the
    mesh once); body models are immutable after loading, so caching by identity is safe."""
    return FitSkeleton(body, landmarks)
