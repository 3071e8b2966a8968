"""Opening a recording as a project: the motion as read, keyframes where the signs are."""
import numpy as np
import pytest

from engine.motion import Motion
from engine.motion.errors import ProjectFileError
from engine.workflows.recording import import_recording
from tests.conftest import letter_clip


def test_motion_file_becomes_a_project_with_keyframes_inside_the_signs(tmp_path):
    from engine.export.motion_files import write_npz

    rest = letter_clip("flat", frames=12)
    motion = Motion.concatenate([rest, letter_clip("fist", 20), rest, letter_clip("asl_v", 20), rest])
    write_npz(motion, tmp_path / "two_signs.npz")
    seen = []
    project = import_recording(tmp_path / "two_signs.npz", progress=lambda d, t, m="": seen.append(d))
    assert project.title == "two_signs" and project.motion.num_frames == motion.num_frames
    assert np.array_equal(project.motion.right_hand_pose, motion.right_hand_pose)
    frames = [k.frame for k in project.keyframes]
    assert len(frames) >= 3 and len(set(frames)) == len(frames)
    for key in project.keyframes:  # each key holds the motion's own pose at its frame
        assert np.array_equal(key.pose.right_hand_pose[0], motion.right_hand_pose[key.frame])
    assert seen[-1] == 1000

    bare = import_recording(tmp_path / "two_signs.npz", place_keyframes=False)
    assert bare.keyframes == ()


def test_bad_recording_names_the_file(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ProjectFileError, match="junk.npz"):
        import_recording(tmp_path / "junk.npz")
