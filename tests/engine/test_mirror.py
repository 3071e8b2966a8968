"""Mirror images of poses: for the other hand, or a left-handed signer."""
import numpy as np

from engine.body import default_avatar
from engine.body.mirror import mirror_keyframe, mirror_motion, mirror_project
from engine.body.skeleton import JOINT_NAMES
from engine.motion import Channel, Keyframe, Project
from engine.motion.face import FACE_BLENDSHAPE_INDEX
from tests.conftest import random_motion


def _twin(name):
    return name.replace("left", "TMP").replace("right", "left").replace("TMP", "right")


def test_the_mirrored_pose_puts_every_joint_at_its_twins_mirror_image(rng):
    motion = random_motion(rng, num_frames=4)
    avatar = default_avatar()
    joints = avatar.forward(motion).joints
    mirrored = avatar.forward(mirror_motion(motion)).joints
    twins = [JOINT_NAMES.index(_twin(name)) for name in JOINT_NAMES]
    expected = joints[:, twins] * np.array([-1.0, 1.0, 1.0])
    assert np.abs(mirrored - expected).max() < 1e-4  # metres


def test_mirroring_twice_gives_the_motion_back(rng):
    motion = random_motion(rng, num_frames=5)
    assert mirror_motion(mirror_motion(motion)).equals(motion, atol=1e-6)


def test_the_face_and_the_keys_trade_sides_too(rng):
    motion = random_motion(rng, num_frames=1)
    weights = np.zeros_like(motion.face_blendshapes)
    weights[0, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]] = 0.8
    smile = motion.replace(face_blendshapes=weights)
    flipped = mirror_motion(smile).face_blendshapes[0]
    assert flipped[FACE_BLENDSHAPE_INDEX["mouthSmileRight"]] == np.float32(0.8)
    assert flipped[FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]] == 0
    key = Keyframe(0, smile, frozenset({Channel.RIGHT_HAND, Channel.FACE}))
    assert mirror_keyframe(key).channels == {Channel.LEFT_HAND, Channel.FACE}
    project = Project(motion=smile, keyframes=(key,))
    mirrored = mirror_project(project)
    assert mirrored.keyframes[0].channels == {Channel.LEFT_HAND, Channel.FACE}
    assert np.array_equal(mirrored.motion.left_hand_pose,
                          smile.right_hand_pose * np.array([1, -1, -1], np.float32))
