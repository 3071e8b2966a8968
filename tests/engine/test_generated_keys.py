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


def test_a_keys_interpolation_regenerates_only_its_span_and_undoes_exactly(tmp_path):
    from engine.generate.key_edits import interpolation_edit
    from engine.motion.edits import apply

    project = sign_from_notation("flathand extfingeru palml chest touch",
                                 NotationOptions(gloss="HAUS"))
    keys = project.keyframes
    index = next(i for i in range(len(keys) - 1)    # a span whose two ends differ
                 if not np.allclose(keys[i].pose.body_pose, keys[i + 1].pose.body_pose))
    key, following = keys[index], keys[index + 1]
    edit = interpolation_edit(project, key.frame, "hold")
    held = edit.project
    assert edit.frame_range == (key.frame, following.frame)
    assert held.keyframe_at(key.frame).interpolation == "hold"
    span = held.motion.body_pose[key.frame:following.frame]
    assert np.array_equal(span, np.repeat(span[:1], len(span), axis=0))     # held still
    outside = np.r_[0:key.frame, following.frame:project.motion.num_frames]
    assert np.array_equal(held.motion.body_pose[outside], project.motion.body_pose[outside])
    after, inverse = apply(edit.op, project)
    assert after.equals(held)
    assert apply(inverse, after)[0].equals(project)
    linear = interpolation_edit(held, key.frame, "linear").project
    assert not np.array_equal(linear.motion.body_pose[key.frame + 1], span[0])
    path = tmp_path / "p.signstudio"
    save_project(linear, path)
    assert load_project(path).keyframe_at(key.frame).interpolation == "linear"


def test_mirroring_keeps_who_placed_a_key_and_how_it_interpolates():
    from engine.body.mirror import mirror_keyframe, mirror_project
    from engine.generate.key_edits import interpolation_edit

    project = sign_from_notation("flathand extfingeru palml chest touch",
                                 NotationOptions(gloss="HAUS"))
    frame = project.keyframes[1].frame
    project = interpolation_edit(project, frame, "spline").project
    mirrored = mirror_project(project)
    key = mirrored.keyframe_at(frame)
    assert key.interpolation == "spline" and key.generated
    assert mirror_keyframe(key).interpolation == "spline"
