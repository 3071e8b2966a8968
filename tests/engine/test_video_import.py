"""Video -> MediaPipe keypoints, offline, on a short video rendered from the avatar."""
import numpy as np
import pytest

from engine.data.keypoints import BODY_INDEX
from engine.data.pose_reader import KeypointFileError
from engine.jobs import Cancelled, CancelToken

pytestmark = [pytest.mark.slow, pytest.mark.gl]


def render_avatar_video(path, frames=10, size=480, raise_left_arm=False):
    import imageio.v3 as iio

    from engine.body import default_avatar
    from engine.body.skeleton import JOINT_INDEX as J
    from engine.export.render import OffscreenRenderer
    from engine.motion import Motion

    avatar = default_avatar()
    body = np.zeros((frames, 21, 3), np.float32)
    body[:, J["left_shoulder"] - 1] = [0, 0, 0.5 if raise_left_arm else -1.2]
    body[:, J["right_shoulder"] - 1] = [0, 0, 1.2]
    body[:, J["left_elbow"] - 1] = [0, -1.6, 0]
    body[:, J["right_elbow"] - 1] = [0, 1.6, 0]
    posed = avatar.forward(Motion.zeros(frames).replace(body_pose=body))
    with OffscreenRenderer(avatar, size, size) as renderer:
        renderer.set_camera("front", posed.joints)
        images = np.stack([renderer.render(posed.vertices[i]) for i in range(frames)])
    iio.imwrite(path, images, fps=25, codec="libx264", plugin="pyav")
    return path


@pytest.fixture(scope="module")
def avatar_video(tmp_path_factory):
    return render_avatar_video(tmp_path_factory.mktemp("video") / "left_arm_up.mp4",
                               raise_left_arm=True)


def test_the_sequence_knows_where_its_image_is_and_mirrors_it(avatar_video):
    """The image's centre and height, in the sequence's units, for the face fit's camera."""
    from engine.data.video_import import read_video_keypoints

    seq = read_video_keypoints(avatar_video)
    meta = seq.metadata
    origin, scale = np.array(meta.source_origin[:2]), meta.source_scale
    centre_x, centre_y = meta.image_centre
    # Back to the file's pixels (x right, y down): the 480 x 480 video's middle.
    assert origin + scale * np.array([centre_x, -centre_y]) == pytest.approx([240, 240])
    assert meta.image_height * scale == pytest.approx(480)
    assert meta.image_frame().centre == meta.image_centre
    mirrored = seq.mirrored().metadata
    assert mirrored.image_centre == pytest.approx((-centre_x, centre_y))
    assert mirrored.image_height == meta.image_height


def test_video_gives_keypoints_with_the_right_sides(avatar_video):
    from engine.data.video_import import read_video_keypoints

    seen = []
    seq = read_video_keypoints(avatar_video, progress=lambda d, t, m="": seen.append(d))
    assert seq.num_frames == 10 and seq.fps == pytest.approx(25)
    assert seen[-1] == 10
    assert (seq.confidence["body"] > 0).all() and (seq.confidence["face"] > 0).all()
    left, right = BODY_INDEX["LEFT_WRIST"], BODY_INDEX["RIGHT_WRIST"]
    body = seq.body
    # The subject's left is +X in our frame; the raised left arm is higher than the right.
    assert (body[:, BODY_INDEX["LEFT_SHOULDER"], 0] > 0).all()
    assert (body[:, left, 1] > body[:, right, 1] + 0.3).all()
    assert (body[:, left, 0] > 0).all() and (body[:, right, 0] < 0).all()


def test_cancel_stops_the_import(avatar_video):
    from engine.data.video_import import read_video_keypoints

    token = CancelToken()

    def cancel_after_two(done, total, message=""):
        if done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        read_video_keypoints(avatar_video, progress=cancel_after_two, cancel=token)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "file is empty"),
    (b"\x00garbage" * 500, "not a readable video"),
])
def test_bad_files_are_reported(tmp_path, content, message):
    from engine.data.video_import import read_video_keypoints

    path = tmp_path / "clip.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KeypointFileError, match=message) as error:
        read_video_keypoints(path)
    assert str(path) in str(error.value)


def test_a_video_without_a_person_is_refused(tmp_path):
    import imageio.v3 as iio

    from engine.data.video_import import read_video_keypoints

    path = tmp_path / "empty_room.mp4"
    iio.imwrite(path, np.full((5, 240, 320, 3), 200, np.uint8), fps=25, codec="libx264",
                plugin="pyav")
    with pytest.raises(KeypointFileError, match="no person found"):
        read_video_keypoints(path)


@pytest.mark.parametrize("shape, landmarks", [
    ("asl_v", "joints"), ("index_point", "joints"),
    # MediaPipe reads the rendered fist (palm to the camera) with its MCP landmarks on
    # top of the knuckles and the fingertips just below, and a ~40 degree curl of every
    # finger joint fits those points with a third of the 2D error of the true fist (0.05
    # vs 0.14 hand sizes) when landmarks sit at joint centres: from the 2D points alone
    # the fit lands nearer "flat". The learned hand reader knows that reading and pulls
    # the fit to the fist (21 deg from it, next nearest index_point at 25).
    ("fist", "joints"),
    # With the calibrated landmark offsets (tools/calibrate_landmarks.py, calibrated on
    # random poses: this fist was not among them) the fist was recovered from the 2D
    # points alone: ~19 deg from the truth, next nearest index_point at ~26 (issue 3;
    # 20 and 24 with the hand reader). Not the default: it
    # measured worse on bench/known_truth.py (see engine.data.fit.LANDMARK_MODELS).
    # It is found from the calibrated model's own starting grid only: the half-curl has
    # the lower loss under this model too (0.16 vs 0.26 for a fit started at the truth),
    # so fit_keypoints(starts=2) keeps the half-curl (~34 deg, fist and index_point tie).
    ("fist", "calibrated"),
])
def test_video_of_a_known_pose_is_recovered(tmp_path, shape, landmarks):
    """Render a known handshape, read it back through MediaPipe, fit, compare joints.

    The reconstruction must be nearer (mean geodesic angle over the 15 right-hand
    joints) to the true shape than to any other reference shape: index point and fist
    differ by only ~17 degrees on average, so a fixed tolerance alone would not tell
    them apart. Also bounded: under 25 degrees from the truth (measured 13.6-20.8).
    """
    import imageio.v3 as iio

    from engine.body import default_avatar
    from engine.body.reference_poses import RIGHT_HAND_SHAPES, signing_pose
    from engine.data.fit import fit_keypoints
    from engine.data.video_import import read_video_keypoints
    from engine.export.render import OffscreenRenderer
    from engine.metrics.joint_error import rotation_angle_deg
    from engine.motion import Motion

    avatar = default_avatar()
    truth = Motion.concatenate([signing_pose(shape)] * 6)
    posed = avatar.forward(truth)
    with OffscreenRenderer(avatar, 640, 640) as renderer:
        renderer.set_camera("front", posed.joints)
        frames = np.stack([renderer.render(v) for v in posed.vertices])
    video = tmp_path / f"{shape}.mp4"
    iio.imwrite(video, frames, fps=25, codec="libx264", plugin="pyav")
    sequence = read_video_keypoints(video)
    assert sequence.metadata.is_2d  # video depth is not trusted (see video_import)
    fitted = fit_keypoints(sequence, landmarks=landmarks).motion.right_hand_pose[3]

    distances = {name: float(rotation_angle_deg(pose, fitted).mean())
                 for name, pose in RIGHT_HAND_SHAPES.items()}
    print(shape, landmarks, {k: round(v, 1) for k, v in distances.items()})
    assert min(distances, key=distances.get) == shape, distances
    assert distances[shape] < 25.0
