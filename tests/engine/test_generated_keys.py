"""Keys a generator placed are marked as such (the timeline draws them lighter than the
user's), survive saving, and become the user's when their pose is edited."""
import numpy as np

from engine.generate.key_edits import set_key_edit
from engine.motion import Keyframe, load_project, save_project
from engine.workflows.notation import NotationOptions, sign_from_notation


def test_generated_keys_are_marked_saved_and_become_the_users_when_edited(tmp_path):
    project = sign_from_notation("flathand extfingeru palml chest touch",
                                 NotationOptions(gloss="HAUS"))
    assert project.keyframes and all(k.generated for k in project.keyframes)
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.equals(project) and all(k.generated for k in loaded.keyframes)
    key = project.keyframes[1]
    pose = key.pose.full_pose().copy()
    pose[0, 21] += np.float32(0.2)   # the right wrist, turned
    edited = set_key_edit(project, Keyframe(key.frame, key.pose.with_full_pose(pose),
                                            key.channels)).project
    assert not edited.keyframe_at(key.frame).generated
    assert sum(k.generated for k in edited.keyframes) == len(project.keyframes) - 1
