"""Locked and muted tracks: a locked track is never redrawn and no key edit may change
it; a muted track is performed at rest; both are saved with the project."""
import json
import zipfile

import numpy as np
import pytest

from engine.face.perform import performed_motion
from engine.generate.key_edits import set_key_edit, span_takes
from engine.motion import Channel, MotionError, ProjectFileError, load_project, save_project
from engine.motion.edits import apply
from engine.motion.project import Keyframe
from tests.engine.test_project_io import _rewrite


def test_a_locked_track_is_never_redrawn_and_a_key_on_it_is_refused(hello_project):
    project = hello_project.replace(locked={"right_hand"})
    keys = sorted(k.frame for k in project.keyframes)
    frame = (keys[1] + keys[2]) // 2
    # A key that pins the body only: the span around it is redrawn, the locked right
    # hand is not (every frame exactly as it was), the body is.
    pose = project.motion.frame(frame)
    raised = pose.replace(body_pose=pose.body_pose + np.float32(0.2))
    edit = set_key_edit(project, Keyframe(frame, raised, frozenset({Channel.BODY})))
    start, stop = edit.frame_range
    assert np.array_equal(edit.project.motion.right_hand_pose, project.motion.right_hand_pose)
    assert not np.array_equal(edit.project.motion.body_pose[start:stop],
                              project.motion.body_pose[start:stop])
    # A key that would change the locked hand is refused, naming the track.
    fist = pose.replace(right_hand_pose=pose.right_hand_pose + np.float32(0.3))
    with pytest.raises(MotionError, match="right hand track is locked"):
        set_key_edit(project, Keyframe(frame, fist, frozenset({Channel.RIGHT_HAND})))
    # Unlocked, the same key lands.
    assert set_key_edit(hello_project, Keyframe(frame, fist, frozenset({Channel.RIGHT_HAND})))
    # New takes of a span keep the locked track too.
    for take in span_takes(project, frame, count=2, backend="smooth"):
        assert np.array_equal(take.project.motion.right_hand_pose, project.motion.right_hand_pose)


def test_a_muted_track_is_performed_at_rest(hello_project):
    muted = hello_project.replace(muted={"right_hand", "face"})
    performed = performed_motion(muted)
    assert not np.abs(performed.right_hand_pose).any()
    assert not np.abs(performed.face_blendshapes).any() and not np.abs(performed.jaw_pose).any()
    np.testing.assert_array_equal(performed.body_pose, hello_project.motion.body_pose)
    assert performed_motion(hello_project) is hello_project.motion   # nothing muted
    # The motion itself is untouched: unmuting brings it back.
    assert muted.motion is hello_project.motion


def test_track_states_are_saved_and_a_damaged_entry_names_the_field(tmp_path, hello_project):
    path = tmp_path / "p.signstudio"
    project = hello_project.replace(locked={"body", "root"}, muted={"face"})
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.equals(project)
    assert loaded.locked == {Channel.BODY, Channel.ROOT} and loaded.muted == {Channel.FACE}
    header = json.loads(zipfile.ZipFile(path).read("project.json"))
    assert header["schema_version"] == 2
    assert header["tracks"] == {"locked": ["body", "root"], "muted": ["face"]}
    for damage, message in (("loud", "field 'tracks'"), ({"muted": "face"}, "field 'tracks'"),
                            ({"locked": ["ears"]}, "Project.locked: 'ears'")):
        header["tracks"] = damage
        _rewrite(path, "project.json", json.dumps(header))
        with pytest.raises(ProjectFileError, match=message):
            load_project(path)


def test_lock_and_mute_are_undoable_project_changes(hello_project):
    from engine.motion.edits import ReplaceProject

    locked, undo = apply(ReplaceProject(hello_project.replace(locked={"face"})), hello_project)
    assert locked.locked == {Channel.FACE}
    assert apply(undo, locked)[0].equals(hello_project)
