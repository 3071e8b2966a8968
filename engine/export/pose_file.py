"""Export a Motion as a ``.pose`` file (pose-format) in the MediaPipe Holistic layout.

sign.mt tools (and ``engine.data.pose_reader``) read Holistic keypoints: components
``POSE_LANDMARKS`` (33), ``FACE_LANDMARKS`` (478), ``LEFT_HAND_LANDMARKS`` (21) and
``RIGHT_HAND_LANDMARKS`` (21), point names in MediaPipe order (``engine.data.keypoints``),
format ``XYZC``. We place those points on the posed avatar, then film it with an
orthographic front camera:

* Camera: ``POSE_IMAGE_SIZE`` x ``POSE_IMAGE_SIZE`` pixels (header dimensions), looking at
  the body from +Z, ``PIXELS_PER_METRE`` px per metre; the avatar's rest-pose vertical
  centre maps to the image centre and x = 0 (the body's midline) to the middle column.
  ``x_px = W/2 + s X``, ``y_px = H/2 - s (Y - cy)`` (y DOWN, as in images) and
  ``z_px = -s Z`` (MediaPipe: smaller z = nearer the camera), with X, Y, Z the SMPL-X
  world position (subject's left at +X, Y up, facing +Z). So the subject's right hand
  appears on the image's left, as a real camera facing a signer sees it.
* Where each point comes from (``HolisticRig``):
    - joints: shoulders, elbows, wrists, hips, knees, ankles; hand WRIST and the finger
      MCP / PIP / DIP (SMPL-X finger joints 1 / 2 / 3); THUMB_CMC / MCP / IP = thumb1 /
      2 / 3; body PINKY / INDEX / THUMB = pinky1 / index1 / thumb2 (the knuckles the Pose
      model marks);
    - mesh vertices, chosen from the rest mesh by geometric rules on skin weights (never
      hard-coded ids, so a re-baked avatar still works): fingertips and toe tips
      (``engine.export.bvh.leaf_tip_vertices``: the vertex continuing the last bone),
      nose tip, upper and lower lip, chin, mouth corners, eye corners, iris centres
      (front of each eyeball), ears, heels. The vertices move with the skinned mesh, so
      the eyes follow the eye joints and the lower lip and chin the jaw.
* FACE_LANDMARKS: on the default avatar all 478 Face Mesh points, each the point of the
  posed mesh where MediaPipe finds it on the avatar (``assets/mediapipe_face_points.json``,
  measured by tools/calibrate_face_points.py), so the exported face moves with the
  blendshapes, the jaw and the eyes. A body without that correspondence (SMPL-X) gets
  the 12 points the rules below can place (1 nose tip, 0 / 17 lips, 152 chin, 61 / 291
  mouth corners, 33 / 133 and 263 / 362 eye corners, 468 / 473 iris centres); the
  others have confidence 0 (masked, position 0): "not provided".
* Confidence 1 for every placed point. A body without a skinned mesh (SMPL-X, whose mesh
  we cannot ship) gets fingertips and toe tips from the BVH end-site offsets, the eye
  landmarks from the eye joints, and confidence 0 on the other vertex-based points.
* Header fps = the Motion's fps; one person per frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import atomic_output
from engine.body.face_points import face_point_surface, face_points_on
from engine.body.skeleton import JOINT_INDEX
from engine.body.tips import end_site_offsets, leaf_tip_vertices
from engine.data.keypoints import BODY_POINT_NAMES, COMPONENT_SIZES, HAND_POINT_NAMES
from engine.motion.motion import Motion

POSE_IMAGE_SIZE = 512
PIXELS_PER_METRE = 256.0  # a 2 m tall field of view: the T-pose (1.67 m wide) fits

#: (pose-format component name, our component name, point names) in file order.
HOLISTIC_LAYOUT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("POSE_LANDMARKS", "body", BODY_POINT_NAMES),
    ("FACE_LANDMARKS", "face", tuple(str(i) for i in range(COMPONENT_SIZES["face"]))),
    ("LEFT_HAND_LANDMARKS", "left_hand", HAND_POINT_NAMES),
    ("RIGHT_HAND_LANDMARKS", "right_hand", HAND_POINT_NAMES),
)

# MediaPipe's published connection lists (pose: POSE_CONNECTIONS; hands: HAND_CONNECTIONS),
# by point index, so visualisers draw a skeleton. Face: the lines between placed points.
BODY_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16),
    (16, 18), (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25),
    (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)
HAND_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10),
    (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18),
    (18, 19), (19, 20),
)
FACE_LIMBS: tuple[tuple[int, int], ...] = (
    (33, 133), (362, 263), (61, 0), (0, 291), (291, 17), (17, 61),
)

_FINGERS_MEDIAPIPE = (("thumb", "THUMB", ("CMC", "MCP", "IP", "TIP")),
                      ("index", "INDEX_FINGER", ("MCP", "PIP", "DIP", "TIP")),
                      ("middle", "MIDDLE_FINGER", ("MCP", "PIP", "DIP", "TIP")),
                      ("ring", "RING_FINGER", ("MCP", "PIP", "DIP", "TIP")),
                      ("pinky", "PINKY", ("MCP", "PIP", "DIP", "TIP")))


@dataclass(frozen=True)
class PointSource:
    """Where one keypoint comes from: a joint, a mesh vertex, or a leaf joint's end site."""

    kind: str  # "joint", "vertex", "end_site" or "surface" (a face point, by landmark)
    index: int


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def _face_and_body_vertices(body) -> dict[str, int]:
    """Named landmark vertices picked from the rest mesh by rules on skin weights.

    Needs ``body.skin_weights`` (V, 55), ``body.rest_vertices`` (V, 3) and, to exclude
    eyeballs, teeth and hair, ``body.vertex_region`` (V,) (0 = skin; all skin if absent). Rules (rest
    T-pose, metres; "midline" = |x| < 3 mm; head = joint 15, jaw = 22):
    nose tip = the most forward (max z) head-owned midline skin vertex; lower lip = the
    most forward jaw-owned midline skin vertex; upper lip = the most forward head-owned
    midline vertex below the nose/lower-lip midpoint; chin = the jaw-owned midline vertex
    furthest down-and-forward; mouth corners = the most lateral skin vertices on the lip
    seam (head and jaw weight both >= 0.3) within 1.5 cm behind and 2 cm above/below the
    lower lip (further back the seam runs along the jaw line of the cheek; on the default
    avatar this lands within 4 mm of the vertex its mouthLeft / mouthDimple shapes move
    most); iris centre = the most forward vertex of each eyeball; eye corners = its
    most lateral / medial; ears = the most lateral head-owned skin vertices within 1.5 cm
    of eye height; heels = the ankle-owned skin vertices furthest down-and-back.
    """
    vertices = np.asarray(body.rest_vertices, np.float64)
    weights = np.asarray(body.skin_weights)
    region = np.asarray(getattr(body, "vertex_region", np.zeros(len(vertices), np.uint8)))
    rest = np.asarray(body.rest_joints, np.float64)
    dominant = weights.argmax(axis=1)
    skin = region == 0
    x, y, z = vertices.T
    midline = np.abs(x) < 0.003
    head, jaw = JOINT_INDEX["head"], JOINT_INDEX["jaw"]

    def best(mask: np.ndarray, score: np.ndarray, what: str) -> int:
        ids = np.flatnonzero(mask)
        if ids.size == 0:
            raise ValueError(f"the body mesh has no vertex for the {what} landmark")
        return int(ids[np.argmax(score[ids])])

    picks: dict[str, int] = {}
    picks["nose"] = best(skin & midline & (dominant == head), z, "nose tip")
    picks["lower_lip"] = best(skin & midline & (dominant == jaw), z, "lower lip")
    between = (y[picks["nose"]] + y[picks["lower_lip"]]) / 2
    picks["upper_lip"] = best(skin & midline & (dominant == head) & (y < between), z, "upper lip")
    picks["chin"] = best(skin & midline & (dominant == jaw), vertices @ _unit([0, -1, 1]), "chin")
    lip = vertices[picks["lower_lip"]]
    seam = (skin & (weights[:, head] >= 0.3) & (weights[:, jaw] >= 0.3)
            & (z > lip[2] - 0.015) & (np.abs(y - lip[1]) < 0.02))
    picks["mouth_left"] = best(seam & (x > 0), x, "left mouth corner")
    picks["mouth_right"] = best(seam & (x < 0), -x, "right mouth corner")
    for side, sign in (("left", 1.0), ("right", -1.0)):
        eye = JOINT_INDEX[f"{side}_eye_smplhf"]
        ball = dominant == eye  # the eyeball: the eye joint owns nothing else
        picks[f"{side}_iris"] = best(ball, z, f"{side} iris")
        picks[f"{side}_eye_outer"] = best(ball, sign * x, f"{side} eye outer corner")
        picks[f"{side}_eye_inner"] = best(ball, -sign * x, f"{side} eye inner corner")
        ear_band = skin & (dominant == head) & (np.abs(y - rest[eye, 1]) < 0.015)
        picks[f"{side}_ear"] = best(ear_band, sign * x, f"{side} ear")
        ankle = JOINT_INDEX[f"{side}_ankle"]
        picks[f"{side}_heel"] = best(skin & (dominant == ankle), vertices @ _unit([0, -1, -1]),
                                     f"{side} heel")
    return picks


class HolisticRig:
    """The source of every Holistic keypoint on one body (see the module docstring).

    ``sources[component]`` is a list, one entry per point in MediaPipe order, of a
    ``PointSource`` or None (not provided: confidence 0).
    """

    def __init__(self, body):
        self.body = body
        tips = leaf_tip_vertices(body)
        try:
            named = _face_and_body_vertices(body) if tips is not None else None
        except ValueError:
            named = None
        self.has_mesh = named is not None

        def tip(joint_name: str) -> PointSource:
            j = JOINT_INDEX[joint_name]
            return PointSource("vertex", tips[j]) if self.has_mesh else PointSource("end_site", j)

        def vertex(name: str, fallback: PointSource | None = None) -> PointSource | None:
            return PointSource("vertex", named[name]) if self.has_mesh else fallback

        joint = lambda name: PointSource("joint", JOINT_INDEX[name])  # noqa: E731

        body_points: dict[str, PointSource | None] = {"NOSE": vertex("nose")}
        for side in ("left", "right"):
            s = side.upper()
            eye_joint = joint(f"{side}_eye_smplhf")
            body_points.update({
                f"{s}_EYE_INNER": vertex(f"{side}_eye_inner"),
                f"{s}_EYE": vertex(f"{side}_iris", eye_joint),
                f"{s}_EYE_OUTER": vertex(f"{side}_eye_outer"),
                f"{s}_EAR": vertex(f"{side}_ear"),
                f"MOUTH_{s}": vertex(f"mouth_{side}"),
                f"{s}_SHOULDER": joint(f"{side}_shoulder"),
                f"{s}_ELBOW": joint(f"{side}_elbow"),
                f"{s}_WRIST": joint(f"{side}_wrist"),
                f"{s}_PINKY": joint(f"{side}_pinky1"),
                f"{s}_INDEX": joint(f"{side}_index1"),
                f"{s}_THUMB": joint(f"{side}_thumb2"),
                f"{s}_HIP": joint(f"{side}_hip"),
                f"{s}_KNEE": joint(f"{side}_knee"),
                f"{s}_ANKLE": joint(f"{side}_ankle"),
                f"{s}_HEEL": vertex(f"{side}_heel"),
                f"{s}_FOOT_INDEX": tip(f"{side}_foot"),
            })
        face: list[PointSource | None] = [None] * COMPONENT_SIZES["face"]
        for index, name in ((1, "nose"), (0, "upper_lip"), (17, "lower_lip"), (152, "chin"),
                            (61, "mouth_right"), (291, "mouth_left"),
                            (33, "right_eye_outer"), (133, "right_eye_inner"),
                            (263, "left_eye_outer"), (362, "left_eye_inner"),
                            (468, "right_iris"), (473, "left_iris")):
            face[index] = vertex(name)
        if self.has_mesh and _has_face_points(body):
            face = [PointSource("surface", index) for index in range(COMPONENT_SIZES["face"])]
        hands: dict[str, list[PointSource | None]] = {}
        for side in ("left", "right"):
            points = {"WRIST": joint(f"{side}_wrist")}
            for ours, theirs, parts in _FINGERS_MEDIAPIPE:
                for k, part in enumerate(parts[:3], start=1):
                    points[f"{theirs}_{part}"] = joint(f"{side}_{ours}{k}")
                points[f"{theirs}_{parts[3]}"] = tip(f"{side}_{ours}3")
            hands[f"{side}_hand"] = [points[name] for name in HAND_POINT_NAMES]
        self.sources: dict[str, list[PointSource | None]] = {
            "body": [body_points[name] for name in BODY_POINT_NAMES],
            "face": face,
            **hands,
        }
        assert all(len(self.sources[c]) == COMPONENT_SIZES[c] for c in COMPONENT_SIZES)

    def world_points(self, motion: Motion) -> tuple[np.ndarray, np.ndarray]:
        """Posed keypoints in the world frame.

        Returns (points (F, 553, 3) float64 metres, SMPL-X frame; confidence (F, 553)
        float32, 1 placed / 0 not provided), components in ``HOLISTIC_LAYOUT`` order.
        """
        out = self.body.forward(motion)
        joints = np.asarray(out.joints, np.float64)
        vertices = out.vertices
        ends = end_site_offsets(self.body)
        sources = [s for _, ours, _ in HOLISTIC_LAYOUT for s in self.sources[ours]]
        # All 478 face points in one product, when they are placed on the mesh.
        face = (face_points_on(vertices)
                if any(s is not None and s.kind == "surface" for s in sources) else None)
        points = np.zeros((motion.num_frames, len(sources), 3))
        confidence = np.zeros((motion.num_frames, len(sources)), np.float32)
        for i, source in enumerate(sources):
            if source is None:
                continue
            if source.kind == "joint":
                points[:, i] = joints[:, source.index]
            elif source.kind == "vertex":
                points[:, i] = vertices[:, source.index]
            elif source.kind == "surface":
                points[:, i] = face[:, source.index]
            else:  # the leaf's end site carried by its joint's world rotation
                rotation = np.asarray(out.joint_rotations[:, source.index], np.float64)
                points[:, i] = joints[:, source.index] + rotation @ ends[source.index]
            confidence[:, i] = 1.0
        return points, confidence


def _has_face_points(body) -> bool:
    """Whether MediaPipe's face points are known on ``body``'s mesh: the default avatar,
    on which the asset was measured."""
    if getattr(body, "look_regions", None) is None:
        return False
    ids, _ = face_point_surface()
    return int(ids.max()) < body.num_vertices


def rest_vertical_centre(body) -> float:
    """Y (metres) of the middle of the body's rest extent: the image centre row."""
    points = getattr(body, "rest_vertices", None)
    points = np.asarray(points if points is not None else body.rest_joints, np.float64)
    return float((points[:, 1].min() + points[:, 1].max()) / 2)


def project_front(points: np.ndarray, centre_y: float, image_size: int = POSE_IMAGE_SIZE,
                  pixels_per_metre: float = PIXELS_PER_METRE) -> np.ndarray:
    """(..., 3) world metres -> (..., 3) orthographic front-camera pixels (x right, y down,
    z away from the camera, same scale), see the module docstring."""
    points = np.asarray(points, np.float64)
    s = pixels_per_metre
    return np.stack([image_size / 2 + s * points[..., 0],
                     image_size / 2 - s * (points[..., 1] - centre_y),
                     -s * points[..., 2]], axis=-1)


def pose_header():
    """The pose-format ``PoseHeader`` of our files (Holistic components, XYZC)."""
    from pose_format.pose_header import VERSION, PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    limbs = {"body": BODY_LIMBS, "face": FACE_LIMBS, "left_hand": HAND_LIMBS,
             "right_hand": HAND_LIMBS}
    components = [
        PoseHeaderComponent(name=name, points=list(points), limbs=list(limbs[ours]),
                            colors=[(255, 255, 255)] * len(limbs[ours]), point_format="XYZC")
        for name, ours, points in HOLISTIC_LAYOUT
    ]
    return PoseHeader(VERSION, PoseHeaderDimensions(POSE_IMAGE_SIZE, POSE_IMAGE_SIZE, 0),
                      components)


def motion_to_pose(motion: Motion, body=None):
    """The pose-format ``Pose`` of ``motion`` on ``body`` (default avatar): data
    (F, 1, 553, 3) float32 pixels, confidence (F, 1, 553), fps = ``motion.fps``."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody

    if body is None:
        from engine.body.default_avatar import default_avatar

        body = default_avatar()
    rig = HolisticRig(body)
    world, confidence = rig.world_points(motion)
    pixels = project_front(world, rest_vertical_centre(body))
    pixels[confidence == 0] = 0.0
    data = pixels.astype(np.float32)[:, None]
    return Pose(pose_header(), NumPyPoseBody(fps=float(motion.fps), data=data,
                                             confidence=confidence[:, None]))


def write_pose_file(motion: Motion, path: str | Path, body=None) -> Path:
    """Write ``motion`` as a Holistic ``.pose`` file (see the module docstring), atomically."""
    path = Path(path)
    pose = motion_to_pose(motion, body)
    with atomic_output(path) as temp:
        with open(temp, "wb") as handle:
            pose.write(handle)
    return path

