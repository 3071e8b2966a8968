"""Fitting the face: ARKit blendshape weights and the head's rotation from MediaPipe's
478 face landmarks, with the default avatar's own blendshapes.

Each landmark is a point on the avatar's surface (``assets/mediapipe_face_points.json``,
measured by tools/calibrate_face_points.py), so the avatar's face predicts where the
landmarks go for any weights: ``X(w) = X0 + D w`` in the head's rest frame, X0 (478, 3)
metres, D (478 * 3, 52). Per frame, alternately:

1. the head's pose: the similarity ``s R X(w) + t`` nearest the landmarks (Umeyama's
   closed form, weighted by confidence), first on the points no blendshape moves much
   (nose bridge, temples: the rigid part of a face), then on every point, since the
   face the current weights make explains the moving ones too;
2. the weights: with the pose fixed the model is linear in ``w``, so ``w`` is a bounded
   linear least-squares problem (``scipy.optimize.lsq_linear``, bounds [0, 1]) with a
   small ridge that shares an expression between look-alike shapes instead of
   piling it onto one.

When depth is unreliable (``use_z=False``: 2D keypoints), the pose is first solved in
closed form for a weak-perspective camera (the best affine map, then the nearest scaled
rotation) and then polished with the similarity, the landmarks' z filled in from the
fitted face (the usual way to fit a 3D model to 2D points; alone it converges slowly).

Perspective: a face filmed from 0.5 m is 10 % nearer at the nose than at the ears, and a
weak-perspective camera reads that as expression and as extra head turn (a 20-degree
turn came back 26). Given the source ``ImageFrame`` (its centre and height, which any
video has), each landmark is scaled to where a weak-perspective camera at the head's
depth would have seen it, from the current pose and a pinhole camera. The lens's view
angle is seldom known, so the clip chooses it: the angle whose camera leaves the
smallest residual over a few frames (``estimate_view_angle``). Afterwards the weights
are low-passed over time (``FACE_CUTOFF_HZ``) and clipped to [0, 1]. Frames without a
face keep a neutral face and the body's own head, and are reported.

A clip's own neutral: the signer's face is not the avatar's, and a weak-perspective
camera bends a near face a little, so even a face at rest fits to small weights. Over a
clip of ``BASELINE_MIN_FRAMES`` or more, each shape's ``BASELINE_PERCENTILE``th
percentile is taken as that face at rest and subtracted (a face rests for most of a
clip). A face that does not move at all (one picture pasted on every frame) says
nothing: it is left neutral and the body's head kept. (The package's recordings carry a
mean face that turns with the head: ``lexicon build`` does not fit their faces at all.)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.optimize import lsq_linear
from scipy.signal import butter, filtfilt
from scipy.spatial.transform import Rotation

from engine.body.face_points import face_points_asset, face_points_on
from engine.body.skeleton import JOINT_INDEX
from engine.face.nonmanual import HEAD, NECK, NECK_SHARE
from engine.motion.face import FACE_BLENDSHAPE_NAMES, NUM_FACE_BLENDSHAPES
from engine.motion.motion import Motion
from engine.motion.rotations import similarity

NUM_FACE_POINTS = 478
#: Points that no blendshape moves by more than this (metres) place the head.
RIGID_MOTION_M = 0.0015
#: Ridge on the weights, relative to the data term's mean diagonal.
RIDGE = 0.1
#: Faces move faster than arms (a blink takes 0.1 to 0.4 s): a higher cut-off than the
#: body's 6 Hz (``engine.motion.filtering.FITTED_CUTOFF_HZ``).
FACE_CUTOFF_HZ = 10.0
ROUNDS = 2
#: A landmark whose place on the mesh the calibration's five views disagreed on by this
#: much (mm) counts half: MediaPipe slides it with the view (the face's outline most).
VIEW_SPREAD_MM = 2.0
#: Similarity steps per round: with depth filled in from the fit, each step moves the
#: pose part of the way to the 2D optimum.
POSE_STEPS = 3
CLOSED_FORM_STEPS = 2
#: The view angles (vertical, degrees) a clip's camera is chosen from, from a long lens
#: (10, nearly weak perspective) to a phone held at arm's length (65), and how many of
#: the clip's frames choose it.
VIEW_ANGLES = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 65.0)
VIEW_ANGLE_FRAMES = 6
VIEW_ANGLE_ROUNDS = 1
#: A landmark is never taken nearer than this share of the head's distance from the
#: camera: a wide candidate angle on a big face would put it behind the lens.
MIN_NEARER = 0.2
BASELINE_PERCENTILE = 10
BASELINE_MIN_FRAMES = 10
#: Landmarks (in face heights, after aligning each frame) that vary less than this over
#: a clip: a pasted still face, not a recording of one.
STILL_FACE = 1e-3
#: A shape MediaPipe follows less than this much of the way, or that moves no landmark
#: by ``MIN_REACH_M`` as MediaPipe reports it, is not fitted (see ``FaceModel``).
MIN_GAIN = 0.15
MIN_REACH_M = 0.0015


@dataclass(frozen=True)
class FaceModel:
    """The avatar's face at the landmarks: ``rest`` (478, 3) metres relative to the head
    joint; ``deltas`` (52, 478, 3) metres per unit weight, as MediaPipe reports them
    (the mesh's own movement times the shape's measured gain); ``rigid`` (478,) bool;
    ``visible`` (52,) bool: the shapes the landmarks can show. The others (the tongue,
    the eyelids and gaze on this avatar's blank eyes: gain near 0) are not fitted and
    stay 0. ``reliability`` (478,) in (0, 1]: each landmark's weight in the fit, from how
    well the calibration's views agreed on it (``VIEW_SPREAD_MM``)."""

    rest: np.ndarray
    deltas: np.ndarray
    rigid: np.ndarray
    visible: np.ndarray
    reliability: np.ndarray


@lru_cache(maxsize=1)
def face_model() -> FaceModel:
    """The default avatar's face model (read once; read-only arrays)."""
    from engine.body.default_avatar import default_avatar

    avatar = default_avatar()
    head = avatar.rest_joints[JOINT_INDEX["head"]].astype(np.float64)
    rest = face_points_on(avatar.rest_vertices.astype(np.float64)) - head
    per_vertex = np.zeros((NUM_FACE_BLENDSHAPES, avatar.num_vertices, 3))
    per_vertex[:, avatar._shape_vertex_ids] = avatar._shape_deltas
    deltas = face_points_on(per_vertex)                                 # (52, 478, 3)
    rigid = np.linalg.norm(deltas, axis=-1).max(axis=0) < RIGID_MOTION_M
    # One render per shape measured each gain: the left and right shape of a pair
    # share the mean of theirs (the face is symmetric; the readings are not quite).
    gains = np.array(face_points_asset()["shape_gains"], np.float64)
    names = list(FACE_BLENDSHAPE_NAMES)
    for index, name in enumerate(names):
        if name.endswith("Left") and name[:-4] + "Right" in names:
            partner = names.index(name[:-4] + "Right")
            gains[index] = gains[partner] = (gains[index] + gains[partner]) / 2
    reach = np.linalg.norm(deltas, axis=-1).max(axis=1) * gains
    visible = (gains >= MIN_GAIN) & (reach >= MIN_REACH_M)
    deltas = deltas * (gains * visible)[:, None, None]
    spread = np.array(face_points_asset()["view_spread_mm"], np.float64)
    reliability = 1.0 / (1.0 + (spread / VIEW_SPREAD_MM) ** 2)
    for array in (rest, deltas, rigid, visible, reliability):
        array.setflags(write=False)
    return FaceModel(rest, deltas, rigid, visible, reliability)


@dataclass(frozen=True)
class FaceCamera:
    """A pinhole camera in the landmarks' own units (+Y up): ``centre`` (x, y) where the
    optical axis meets the image, ``focal`` the focal length."""

    centre: tuple[float, float]
    focal: float


@dataclass(frozen=True)
class ImageFrame:
    """The source image in the landmarks' own units (+Y up): its ``centre`` (x, y) and
    ``height``. Any video or picture gives these; its lens's view angle it does not."""

    centre: tuple[float, float]
    height: float

    def camera(self, view_angle: float) -> FaceCamera:
        """The camera whose image height spans ``view_angle`` degrees."""
        return FaceCamera(self.centre, self.height / 2 / np.tan(np.radians(view_angle / 2)))


@dataclass(frozen=True)
class FaceFit:
    """``weights`` (F, 52) ARKit weights in [0, 1]; ``head`` (F, 3) the head's rotation
    (axis-angle, radians) in the landmarks' frame; ``found`` (F,) bool: a face was
    seen; ``error`` (F,) the landmarks' mean distance from the fitted face, in face
    heights (0 where not found); ``still``: the face never moved (see the module
    docstring), so nothing was taken from it; ``view_angle``: the camera's vertical view
    angle in degrees the fit used (None: no image frame given, weak perspective)."""

    weights: np.ndarray
    head: np.ndarray
    found: np.ndarray
    error: np.ndarray
    still: bool = False
    view_angle: float | None = None

    @property
    def missing_frames(self) -> np.ndarray:
        return np.flatnonzero(~self.found)


def fit_face(points: np.ndarray, confidence: np.ndarray, fps: float, use_z: bool = True,
             model: FaceModel | None = None, cancel=None, image: ImageFrame | None = None,
             view_angle: float | None = None) -> FaceFit:
    """Fit every frame of ``points`` (F, 478, 3) (+Y up, +Z toward the camera, any unit)
    with ``confidence`` (F, 478); a frame whose face has fewer than 3 rigid points seen
    is not found. ``cancel``: checked every frame. With the source's ``image`` frame the
    camera's perspective is modelled, with ``view_angle`` (vertical, degrees) or, when
    that is not known, the one that explains the clip best (``estimate_view_angle``)."""
    model = model or face_model()
    frames = len(points)
    weights = np.zeros((frames, NUM_FACE_BLENDSHAPES))
    head = np.zeros((frames, 3))
    error = np.zeros(frames)
    found = np.array([_findable(points[f], confidence[f], model) for f in range(frames)], bool)
    if image is not None and view_angle is None and found.any():
        view_angle = estimate_view_angle(points[found], confidence[found], use_z, model,
                                         image, cancel)
    camera = image.camera(view_angle) if image is not None and view_angle else None
    for frame in np.flatnonzero(found):
        if cancel is not None:
            cancel.raise_if_cancelled()
        seen = confidence[frame, :NUM_FACE_POINTS] > 0
        weights[frame], rotation, error[frame] = _fit_frame(
            points[frame, :NUM_FACE_POINTS].astype(np.float64), seen, use_z, model, camera)
        head[frame] = Rotation.from_matrix(rotation).as_rotvec()
    angle = view_angle if camera is not None else None
    if found.sum() >= 2 and _still(points[found], confidence[found], model):
        return FaceFit(np.zeros((frames, NUM_FACE_BLENDSHAPES), np.float32), head * 0,
                       found, error, still=True, view_angle=angle)
    if found.sum() >= BASELINE_MIN_FRAMES:
        weights[found] -= np.percentile(weights[found], BASELINE_PERCENTILE, axis=0)
    weights = _smooth(np.clip(weights, 0.0, 1.0), found, fps)
    return FaceFit(weights.astype(np.float32), head, found, error, view_angle=angle)


def _findable(points: np.ndarray, confidence: np.ndarray, model: FaceModel) -> bool:
    """Whether one frame's face can be fitted: 3 rigid points seen, all finite."""
    seen = confidence[:NUM_FACE_POINTS] > 0
    return bool((seen & model.rigid).sum() >= 3 and np.isfinite(points).all())


def estimate_view_angle(points: np.ndarray, confidence: np.ndarray, use_z: bool,
                        model: FaceModel, image: ImageFrame, cancel=None) -> float:
    """The vertical view angle (degrees, one of ``VIEW_ANGLES``) whose camera fits up
    to ``VIEW_ANGLE_FRAMES`` of these frames (spread over the clip) with the smallest
    mean residual. A face's own depth shows the camera's distance: a near camera makes
    the nose large against the cheeks, and a turned head's near side large against its
    far side. On the known-truth renders (30 degrees) the residual is least at 25 and
    the head errors are within 5 degrees from 20 to 30 (docs/faces.md)."""
    picked = np.unique(np.linspace(0, len(points) - 1, VIEW_ANGLE_FRAMES).round().astype(int))
    best = (np.inf, VIEW_ANGLES[0])
    for angle in VIEW_ANGLES:
        camera = image.camera(angle)
        residual = 0.0
        for frame in picked:
            if cancel is not None:
                cancel.raise_if_cancelled()
            seen = confidence[frame, :NUM_FACE_POINTS] > 0
            residual += _fit_frame(points[frame, :NUM_FACE_POINTS].astype(np.float64), seen,
                                   use_z, model, camera, VIEW_ANGLE_ROUNDS)[2]
        best = min(best, (residual, angle))
    return float(best[1])


def _still(points: np.ndarray, confidence: np.ndarray, model: FaceModel) -> bool:
    """Whether the faces (found frames only) are one face pasted on every frame."""
    seen = (confidence[:, :NUM_FACE_POINTS] > 0).all(axis=0) & model.rigid
    if seen.sum() < 3:
        return False
    first = points[0, :NUM_FACE_POINTS].astype(np.float64)
    aligned = []
    for frame in points[:, :NUM_FACE_POINTS].astype(np.float64):
        s, r, t = similarity(frame[seen], first[seen], np.ones(seen.sum()))
        aligned.append(frame @ r.T * s + t)
    height = np.ptp(first[:, 1]) or 1.0
    return float(np.std(np.array(aligned), axis=0).max()) / height < STILL_FACE


def _fit_frame(observed: np.ndarray, seen: np.ndarray, use_z: bool, model: FaceModel,
               camera: FaceCamera | None = None, rounds: int = ROUNDS
               ) -> tuple[np.ndarray, np.ndarray, float]:
    """One frame: (weights (52,), head rotation (3, 3), mean residual in face heights).

    The pose uses z where it is trusted (a head turn shows most in depth); the weights
    always fit x and y only: MediaPipe's z is a regressed relative depth, noisier than
    its image position by far, and a blendshape's few millimetres drown in it.

    Each round solves the pose (``POSE_STEPS`` similarity steps, cheap) and then the
    weights (the bounded solve, the expensive part). The first round places the head on
    the rigid points; later ones on every point, because the face the current weights
    make explains the moving points too (a turn read only off the nose bridge and
    temples came back 6 degrees too far). With a ``camera``, each landmark is moved to
    where a weak-perspective camera at the head's depth would have seen it (scaled by
    its depth in front of the head), so a face 0.6 m away is not bent by its own depth.
    """
    rest, deltas = model.rest, model.deltas
    flat = deltas.reshape(NUM_FACE_BLENDSHAPES, -1).T            # (478 * 3, 52)
    w = np.zeros(NUM_FACE_BLENDSHAPES)
    target = observed.copy()
    confidence = seen * model.reliability
    place = seen & model.rigid
    shown = deltas[model.visible][:, seen]                                  # (k, n, 3)
    scale, rotation, shift = similarity(rest[place], target[place], confidence[place])
    for round_ in range(rounds):
        face = rest + (flat @ w).reshape(-1, 3)
        use = place if round_ == 0 else seen
        for step in range(POSE_STEPS):
            turned = face @ rotation.T
            if camera is not None:
                nearer = np.maximum(1.0 - scale * turned[:, 2] / camera.focal, MIN_NEARER)
                target[:, :2] = camera.centre + (observed[:, :2] - camera.centre) * nearer[:, None]
            if not use_z and step < CLOSED_FORM_STEPS:
                scale, rotation, shift = _scaled_orthographic(face[use], target[use, :2],
                                                              confidence[use])
                turned = face @ rotation.T
            if not use_z:  # depth from the current fit; x and y are the data
                target[:, 2] = scale * turned[:, 2] + shift[2]
            scale, rotation, shift = similarity(face[use], target[use], confidence[use])
        # target_xy = s R[:2] (rest + D w) + t_xy, linear in w.
        a = (shown.reshape(-1, 3) @ rotation[:2].T).reshape(len(shown), -1).T   # (2n, k)
        b = (target[:, :2] - shift[:2]) / scale - rest @ rotation[:2].T
        b = b[seen].reshape(-1)
        root = np.repeat(np.sqrt(confidence[seen]), 2)
        a = a * root[:, None]
        b = b * root
        # The bounded solver gets the k x k Cholesky factor of the normal equations
        # (ridge included) instead of the ~950-row system: |a w - b|^2 + ridge |w|^2
        # equals |L'w - L^-1 a'b|^2 plus a constant, so the answer is the same, 5x faster.
        gram = a.T @ a
        gram[np.diag_indices_from(gram)] += RIDGE * np.trace(gram) / len(gram)
        lower = cholesky(gram, lower=True)
        w = np.zeros(NUM_FACE_BLENDSHAPES)
        w[model.visible] = lsq_linear(lower.T, solve_triangular(lower, a.T @ b, lower=True),
                                      bounds=(0.0, 1.0), method="bvls").x
    face = rest + (flat @ w).reshape(-1, 3)
    turned = face @ rotation.T
    fitted = (scale * turned + shift)[:, :2]
    if camera is not None:  # back through the pinhole: the residual is in the image
        nearer = np.maximum(1.0 - scale * turned[:, 2] / camera.focal, MIN_NEARER)
        fitted = camera.centre + (fitted - camera.centre) / nearer[:, None]
    height = np.ptp(rest[:, 1]) * scale
    residual = np.linalg.norm((fitted - observed[:, :2])[seen], axis=1).mean() / height
    return w, rotation, float(residual)


def _scaled_orthographic(points: np.ndarray, image: np.ndarray, weights: np.ndarray
                         ) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R (3, 3), t (3,), t_z = 0): the weak-perspective pose taking 3D ``points``
    (N, 3) to 2D ``image`` (N, 2) in closed form: the best affine map, then the nearest
    pair of orthonormal rows of one scale (SVD), the third row their cross product."""
    w = weights / weights.sum()
    centred = points - w @ points
    root = np.sqrt(w)[:, None]
    affine = np.linalg.lstsq(centred * root, (image - w @ image) * root, rcond=None)[0].T
    u, sigma, vt = np.linalg.svd(affine, full_matrices=False)             # (2,2) (2,) (2,3)
    rows = u @ vt
    rotation = np.vstack([rows, np.cross(rows[0], rows[1])])
    scale = float(sigma.mean())
    shift = np.zeros(3)
    shift[:2] = w @ image - scale * rows @ (w @ points)
    return scale, rotation, shift


def _smooth(weights: np.ndarray, found: np.ndarray, fps: float) -> np.ndarray:
    """Low-pass each run of found frames (``FACE_CUTOFF_HZ``), clipped to [0, 1]."""
    if FACE_CUTOFF_HZ >= fps / 2:
        return weights
    b, a = butter(2, FACE_CUTOFF_HZ / (fps / 2))
    out = weights.copy()
    edges = np.flatnonzero(np.diff(np.r_[0, found.astype(int), 0]))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start > 9:  # filtfilt's padding needs more than 3 * (order + 1) frames
            out[start:stop] = filtfilt(b, a, weights[start:stop], axis=0)
    return np.clip(out, 0.0, 1.0)


def frame_ranges(frames: np.ndarray) -> str:
    """[3, 4, 5, 9] -> '3-5, 9' (how a report names frames)."""
    frames = [int(f) for f in frames]
    parts, start = [], None
    for index, frame in enumerate(frames):
        if start is None:
            start = frame
        if index + 1 == len(frames) or frames[index + 1] != frame + 1:
            parts.append(str(start) if start == frame else f"{start}-{frame}")
            start = None
    return ", ".join(parts)


def with_fitted_face(motion: Motion, fit: FaceFit) -> Motion:
    """``motion`` with the fitted face: its weights, and on found frames the head turned
    to the fitted rotation (shared between neck and head as the head markers are),
    whatever the body fit gave the chest."""
    from engine.body.default_avatar import default_avatar
    from engine.body.lbs import forward_kinematics
    from engine.body.skeleton import PARENTS

    if fit.still:
        return motion
    changes = {"face_blendshapes": fit.weights}
    if fit.found.any():
        rotations, _ = forward_kinematics(motion.full_pose(), default_avatar().rest_joints, PARENTS)
        chest = Rotation.from_matrix(
            rotations[:, PARENTS[JOINT_INDEX["neck"]]].astype(np.float64))
        turn = (chest.inv() * Rotation.from_rotvec(fit.head)).as_rotvec()
        body = motion.body_pose.astype(np.float64)
        found = fit.found
        body[found, NECK] = NECK_SHARE * turn[found]
        body[found, HEAD] = (1.0 - NECK_SHARE) * turn[found]
        changes["body_pose"] = body
    return motion.replace(**changes)
