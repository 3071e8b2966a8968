"""Fitting the face from MediaPipe's face landmarks: a known-truth check on renders of
the avatar read by the real MediaPipe, frames without a face, a pasted still face, and
the fitted head turned into the motion."""
import json
import os

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.assets import asset_path
from engine.body import default_avatar
from engine.body.lbs import forward_kinematics
from engine.body.skeleton import JOINT_INDEX, PARENTS
from engine.body.face_points import FACE_POINTS_FILE
from engine.face.fitting import (
    ImageFrame, face_model, fit_face, frame_ranges, with_fitted_face,
)
from engine.motion import FACE_BLENDSHAPE_INDEX, Motion

HEAD = JOINT_INDEX["head"]
#: name -> (ARKit weights, head rotation as xyz Euler degrees)
CASES = {
    "neutral": ({}, (0, 0, 0)),
    "smile": ({"mouthSmileLeft": 0.8, "mouthSmileRight": 0.8}, (0, 0, 0)),
    "open": ({"jawOpen": 0.7}, (0, 0, 0)),
    "tilt": ({}, (0, 0, 15)),
    "nod": ({}, (12, 0, 0)),
    "smile_tilt": ({"mouthSmileLeft": 0.6, "mouthSmileRight": 0.6}, (0, 0, -10)),
    "pucker": ({"mouthPucker": 0.8}, (0, 0, 0)),
    "neutral_2": ({}, (0, 0, 0)),
    "frown": ({"mouthFrownLeft": 0.8, "mouthFrownRight": 0.8}, (0, 0, 0)),
    "neutral_3": ({}, (0, 0, 0)),
    "turn": ({}, (0, 20, 0)),
}
#: The renders' image in the landmarks' units (x right, y up, image heights).
IMAGE = ImageFrame(centre=(0.5, -0.5), height=1.0)


def case_motion(weights: dict, euler) -> Motion:
    face = np.zeros((1, 52), np.float32)
    for name, value in weights.items():
        face[0, FACE_BLENDSHAPE_INDEX[name]] = value
    body = np.zeros((1, 21, 3), np.float32)
    body[0, HEAD - 1] = Rotation.from_euler("xyz", euler, degrees=True).as_rotvec()
    return Motion.zeros(1).replace(face_blendshapes=face, body_pose=body)


@pytest.fixture(scope="module")
def readings():
    """MediaPipe Face Mesh (refined) on each case rendered 640 x 640 from the front:
    (F, 478, 3) in our axes (+Y up, +Z toward the camera)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from engine.export.render import OffscreenRenderer, camera_view

    avatar = default_avatar()
    points = []
    with OffscreenRenderer(avatar, 640, 640) as renderer, mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True) as mesh:
        focus, _, height = camera_view("face", avatar.forward(Motion.zeros(1)).joints, 1.0)
        renderer.look_at(focus, (0.0, 0.0, 1.0), 1.3 * height)
        for weights, euler in CASES.values():
            image = renderer.render(avatar.forward(case_motion(weights, euler)).vertices[0])
            found = mesh.process(image).multi_face_landmarks
            assert found, "MediaPipe found no face on the avatar"
            marks = np.array([[m.x, m.y, m.z] for m in found[0].landmark])
            points.append(np.stack([marks[:, 0], -marks[:, 1], -marks[:, 2]], -1))
    return np.array(points)


def test_the_correspondence_asset_is_478_points_on_the_mesh():
    asset = json.loads(asset_path(FACE_POINTS_FILE).read_text())
    assert len(asset["points"]) == 478 and len(asset["shape_gains"]) == 52
    ids = np.array([p["vertices"] for p in asset["points"]])
    weights = np.array([p["weights"] for p in asset["points"]])
    assert ids.min() >= 0 and ids.max() < default_avatar().num_vertices
    assert np.allclose(weights.sum(axis=1), 1, atol=1e-5) and (weights >= -1e-6).all()
    assert np.median(asset["view_spread_mm"]) < 3  # the five views agree


def test_known_expressions_and_head_turns_are_recovered(readings):
    fit = fit_face(readings, np.ones(readings.shape[:2]), fps=25.0, use_z=False, image=IMAGE)
    model = face_model()
    assert fit.found.all() and not fit.still
    assert 20 <= fit.view_angle <= 35  # rendered at 30 degrees; not told
    w = {name: fit.weights[i] for i, name in enumerate(CASES)}
    errors = []
    for i, (name, (weights, euler)) in enumerate(CASES.items()):
        truth = case_motion(weights, euler).face_blendshapes[0]
        errors.append(np.abs(fit.weights[i] - truth)[model.visible].mean())
        turned = Rotation.from_euler("xyz", euler, degrees=True)
        angle = np.degrees((turned.inv() * Rotation.from_rotvec(fit.head[i])).magnitude())
        assert angle < 5.0, (name, angle)
    smile = [FACE_BLENDSHAPE_INDEX["mouthSmileLeft"], FACE_BLENDSHAPE_INDEX["mouthSmileRight"]]
    assert w["smile"][smile].min() > 0.45 and w["neutral"][smile].max() < 0.15
    assert w["open"][FACE_BLENDSHAPE_INDEX["jawOpen"]] > 0.5
    assert w["neutral"][FACE_BLENDSHAPE_INDEX["jawOpen"]] < 0.15
    assert np.mean(errors) < 0.1, errors   # measured 0.07 (bench/face_known_truth.py)


def test_a_pinhole_cameras_view_angle_is_found_and_its_perspective_undone():
    """Landmarks of the model itself seen through a 40-degree pinhole camera 0.5 m away
    (no MediaPipe): the fit finds the angle, and reads the turn and the smile through
    it; read as weak perspective, the near half of the face bends the answer."""
    model = face_model()
    visible = model.visible
    truth = np.zeros((3, 52))
    truth[1, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]] = 0.7
    truth[2, FACE_BLENDSHAPE_INDEX["jawOpen"]] = 0.5
    turns = Rotation.from_euler("xyz", [(0, 0, 0), (0, 25, 0), (10, -15, 5)], degrees=True)
    focal = 0.5 / np.tan(np.radians(40 / 2))      # image heights
    points = []
    for weights, turn in zip(truth, turns):
        face = model.rest + np.einsum("k,knj->nj", weights, model.deltas)
        camera = turn.apply(face) + (0.02, 0.05, -0.5)        # metres, camera at the origin
        image = focal * camera[:, :2] / -camera[:, 2:3] + IMAGE.centre
        points.append(np.concatenate([image, np.zeros((478, 1))], axis=1))
    points = np.array(points)
    kwargs = dict(fps=25.0, use_z=False)
    seen = np.ones(points.shape[:2])
    fit = fit_face(points, seen, image=IMAGE, **kwargs)
    weak = fit_face(points, seen, **kwargs)
    assert fit.view_angle == 40 and weak.view_angle is None

    def head_errors(result):
        return np.degrees((turns.inv() * Rotation.from_rotvec(result.head)).magnitude())

    assert head_errors(fit).max() < 0.5, head_errors(fit)
    assert head_errors(weak).max() > 2 * head_errors(fit).max() + 1.0, head_errors(weak)
    # (the ridge that keeps look-alike shapes apart shrinks a set weight a little)
    assert np.abs(fit.weights - truth)[:, visible].max() < 0.15
    assert np.abs(fit.weights - truth)[:, visible].mean() < 0.02
    assert np.abs(weak.weights - truth)[:, visible].mean() > np.abs(
        fit.weights - truth)[:, visible].mean()


def test_frames_without_a_face_are_neutral_and_named(readings):
    frames = np.concatenate([readings] * 2)
    confidence = np.ones(frames.shape[:2])
    confidence[3:6] = 0
    fit = fit_face(frames, confidence, fps=25.0, use_z=False)
    assert list(fit.missing_frames) == [3, 4, 5]
    assert frame_ranges(fit.missing_frames) == "3-5"
    assert np.all(fit.weights[3:6] == 0)
    motion = Motion.zeros(len(frames)).replace(
        body_pose=np.full((len(frames), 21, 3), 0.01, np.float32))
    fitted = with_fitted_face(motion, fit)
    assert np.array_equal(fitted.body_pose[3:6], motion.body_pose[3:6])   # the body's head
    assert not np.array_equal(fitted.body_pose[6:], motion.body_pose[6:])


def test_a_pasted_still_face_is_not_fitted(readings):
    still = np.repeat(readings[1:2], 12, axis=0)   # the smile, on every frame
    fit = fit_face(still, np.ones(still.shape[:2]), fps=25.0)
    assert fit.still and np.all(fit.weights == 0)
    motion = Motion.zeros(12)
    assert with_fitted_face(motion, fit) is motion


def test_the_fitted_head_turns_the_avatars_head(readings):
    fit = fit_face(readings[:1], np.ones(readings[:1].shape[:2]), fps=25.0)
    turn = Rotation.from_euler("xyz", (10, -20, 5), degrees=True)
    fit = type(fit)(fit.weights, turn.as_rotvec()[None], fit.found, fit.error)
    chest = np.zeros((1, 21, 3), np.float32)
    chest[0, JOINT_INDEX["spine3"] - 1] = [0.2, 0.1, 0.0]   # a leaning chest
    motion = with_fitted_face(Motion.zeros(1).replace(body_pose=chest), fit)
    rotations, _ = forward_kinematics(motion.full_pose(), default_avatar().rest_joints, PARENTS)
    head = Rotation.from_matrix(rotations[0, HEAD].astype(np.float64))
    assert np.degrees((head.inv() * turn).magnitude()) < 0.01
    assert PARENTS[HEAD] == JOINT_INDEX["neck"]


def test_frame_ranges():
    assert frame_ranges(np.array([0, 1, 2, 5, 7, 8])) == "0-2, 5, 7-8"
    assert frame_ranges(np.array([], int)) == ""


@pytest.mark.slow
@pytest.mark.gl
def test_a_video_the_tests_make_shows_its_smile_in_the_fitted_face(tmp_path):
    """An avatar video (upper body, as a user films themselves) that smiles halfway:
    imported through MediaPipe Holistic and the fitter, the smile is in the motion."""
    import imageio.v3 as iio

    from engine.data.fit import fit_keypoints
    from engine.data.video_import import read_video_keypoints
    from engine.export.render import OffscreenRenderer

    avatar = default_avatar()
    frames = 24
    face = np.zeros((frames, 52), np.float32)
    face[12:, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]] = 0.9
    face[12:, FACE_BLENDSHAPE_INDEX["mouthSmileRight"]] = 0.9
    body = np.zeros((frames, 21, 3), np.float32)
    body[:, JOINT_INDEX["left_shoulder"] - 1] = [0, 0, -1.2]
    body[:, JOINT_INDEX["right_shoulder"] - 1] = [0, 0, 1.2]
    posed = avatar.forward(Motion.zeros(frames).replace(body_pose=body, face_blendshapes=face))
    with OffscreenRenderer(avatar, 640, 640) as renderer:
        renderer.look_at(posed.joints[0, JOINT_INDEX["neck"]] + [0, 0.05, 0], (0, 0, 1), 0.75)
        images = np.stack([renderer.render(v) for v in posed.vertices])
    video = tmp_path / "smile.mp4"
    iio.imwrite(video, images, fps=25, codec="libx264", plugin="pyav")
    result = fit_keypoints(read_video_keypoints(video), iterations=60)
    smile = result.motion.face_blendshapes[:, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]]
    assert result.quality["face_frames"] == frames and "face_missing" not in result.quality
    assert smile[15:].mean() > smile[:10].mean() + 0.3, smile.round(2)


def test_an_exported_pose_file_carries_a_face_the_fitter_reads_back(tmp_path):
    """The .pose export places all 478 face points on the posed avatar: a smile written
    out is found again by fitting the file's face."""
    from engine.data.pose_reader import read_pose_file
    from engine.export.motion_files import write_motion_file

    face = np.zeros((24, 52), np.float32)
    face[12:, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]] = 0.8
    face[12:, FACE_BLENDSHAPE_INDEX["mouthSmileRight"]] = 0.8
    motion = Motion.zeros(24, fps=25.0).replace(face_blendshapes=face)
    sequence = read_pose_file(write_motion_file(motion, tmp_path / "smile.pose"))
    assert (sequence.confidence["face"] > 0).all()
    fit = fit_face(sequence.face, sequence.confidence["face"], sequence.fps)
    smile = fit.weights[:, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]]
    assert smile[14:].min() > smile[:10].max() + 0.5


def test_the_package_clips_get_no_face_their_mean_face_would_be_read_as_expressions():
    """spoken-to-signed replaced every signer's face by one mean face: fitted, its
    proportions read as expressions (measured up to 1.0), so lexicon build leaves it."""
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon_build import PACKAGE_FACE, _default_fit

    index = load_index()
    sequence = index.read(index.for_language("sgg")[0])
    fitted = fit_face(sequence.face, sequence.confidence["face"], sequence.fps, use_z=False)
    assert not fitted.still and fitted.weights.max() > 0.5   # what fitting it would give
    result = _default_fit()(sequence, iterations=3)
    assert result.quality["face"] == PACKAGE_FACE and "face_frames" not in result.quality
    assert not result.motion.face_blendshapes.any()
