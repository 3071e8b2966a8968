"""Contact locks (``engine.motion.contacts``, ``engine.notation.contact_hold``): the locked
point of a hand sits on its body site over the span, follows the site when the head
moves, survives regeneration around it, retiming and saving, and nothing outside the
span and its ease changes."""
import json
import zipfile

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.notation.contact_hold import (
    EASE_FRAMES, LEAN, locked_project, point_track, site_frames, site_track,
)
from engine.body.default_avatar import default_avatar
from engine.body.mirror import mirror_project
from engine.body.skeleton import JOINT_INDEX
from engine.generate.key_edits import delete_key_edit
from engine.generate.retime import set_segment_hold
from engine.motion import MotionError, ProjectFileError, load_project, save_project
from engine.motion.contacts import CONTACT_SITES, ContactLock
from engine.notation.anchors import BODY_SITES
from engine.workflows.notation import sign_from_notation
from tests.engine.test_project_io import _rewrite

BODY = default_avatar()


@pytest.fixture(scope="module")
def sign():
    """A one-handed notation sign, keys at 0 14 18 30 39 53 (54 frames)."""
    return sign_from_notation("flathand extfingeru palml chest touch moveo")


def gap_mm(project, lock):
    return 1000 * np.linalg.norm(site_track(BODY, project.motion, lock)
                                 - point_track(BODY, project.motion, lock.side, lock.point),
                                 axis=1)


def test_the_sites_are_the_notations():
    assert CONTACT_SITES == BODY_SITES


def test_a_locked_fingertip_sits_on_the_site_over_the_span_only(sign):
    lock = ContactLock("right", "index", "chin", 10, 25)
    held = locked_project(sign, lock, BODY)
    gap = gap_mm(held, lock)
    assert gap[10:25].max() < 1.0
    assert gap[:10].min() > 1.0 and gap[25] < gap[26] < gap[27]   # it arrives and leaves
    before, after = sign.motion.full_pose(), held.motion.full_pose()
    outside = [f for f in range(54) if not 10 - EASE_FRAMES <= f < 25 + EASE_FRAMES]
    assert all(np.array_equal(before[f], after[f]) for f in outside)
    for key in held.keyframes:                                  # keys inside hold it too
        if 10 <= key.frame < 25:
            assert key.pose.equals(held.motion.frame(key.frame))
    assert held.contacts == (lock,)
    # The hand comes to the chin from outside: its wrist out along the site's normal
    # (held at the orientation it had, it lay inside the face).
    _, normal = site_frames(BODY, held.motion, lock)
    tip = point_track(BODY, held.motion, "right", "index")
    back = point_track(BODY, held.motion, "right", "wrist") - tip
    lean = np.einsum("na,na->n", back / np.linalg.norm(back, axis=1, keepdims=True), normal)
    assert lean[10:25].min() > LEAN - 0.01


def test_the_site_carries_the_hand_through_a_nod(sign):
    frames = sign.motion.num_frames
    pose = sign.motion.full_pose().copy()
    nod = np.radians(20) * np.sin(np.linspace(0, np.pi, frames))
    pose[:, JOINT_INDEX["head"]] = Rotation.from_rotvec(
        np.outer(nod, [1.0, 0.0, 0.0])).as_rotvec()
    nodding = sign.replace(motion=sign.motion.with_full_pose(pose.astype(np.float32)))
    lock = ContactLock("right", "index", "chin", 5, 45)
    held = locked_project(nodding, lock, BODY)
    chin = site_track(BODY, held.motion, lock)
    assert np.ptp(chin[5:45, 1]) > 0.01                   # the chin moved a centimetre+
    assert gap_mm(held, lock)[5:45].max() < 1.0         # and the fingertip with it


def test_regenerating_around_a_lock_keeps_the_contact(sign):
    lock = ContactLock("right", "thumb", "cheek", 12, 28)
    held = locked_project(sign, lock, BODY)
    edit = delete_key_edit(held, 18)                      # KF2P redraws 15..29
    assert edit.frame_range[0] < 18 < edit.frame_range[1]
    assert gap_mm(edit.project, lock)[12:28].max() < 1.0


def test_locks_move_with_retiming_save_and_mirror(tmp_path, sign):
    lock = ContactLock("right", "index", "chin", 40, 50)
    held = locked_project(sign, lock, BODY)
    segment = held.segments[0]
    longer = set_segment_hold(held, 0, segment.hold + 4)
    assert longer.contacts[0].start in (40, 44) and longer.contacts[0].end == 54
    path = tmp_path / "p.signstudio"
    save_project(held, path)
    assert load_project(path).equals(held)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("project.json"))["schema_version"] == 3
    assert mirror_project(held).contacts[0].side == "left"


@pytest.mark.parametrize("fields, words", [
    ({"site": "elbow"}, "ContactLock.site: expected one of head"),
    ({"point": "knuckle"}, "ContactLock.point"),
    ({"start": 9, "end": 9}, "expected start < end"),
    ({"end": 99}, "ends at frame 99, past the motion's 54 frames"),
])
def test_bad_locks_are_refused_with_the_field(tmp_path, sign, fields, words):
    good = {"side": "right", "point": "index", "site": "chin", "start": 10, "end": 20}
    path = tmp_path / "bad.signstudio"
    save_project(sign.replace(contacts=(ContactLock(**good),)), path)
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("project.json"))
    header["contacts"][0].update(fields)
    _rewrite(path, "project.json", json.dumps(header).encode())
    with pytest.raises(ProjectFileError, match=words):
        load_project(path)
    with pytest.raises(MotionError, match=words):
        sign.replace(contacts=(ContactLock(**{**good, **fields}),))


def test_moved_keys_and_a_key_set_inside_the_span_keep_the_contact(sign):
    """Keys moved around a lock (their frames carried with them) and a key set inside
    its span (a head turned with the gizmo): the fingertip stays on the site on every
    frame of the span, keys included, and the motion still meets every key."""
    from engine.body.skeleton import JOINT_INDEX as J
    from engine.generate.key_edits import joint_turned_key, set_key_edit
    from engine.generate.key_selection import shift_keys_edit

    lock = ContactLock("right", "index", "chin", 20, 36)
    held = locked_project(sign, lock, BODY)
    moved = shift_keys_edit(held, (14, 18, 30, 39), 4).project
    assert gap_mm(moved, lock)[20:36].max() < 1.0
    turned = set_key_edit(moved, joint_turned_key(moved, 27, J["head"], 0, np.radians(20)))
    result = turned.project
    assert gap_mm(result, lock)[20:36].max() < 1.0
    for key in result.keyframes:
        assert key.pose.equals(result.motion.frame(key.frame)), key.frame


def test_the_ease_moves_the_point_part_of_the_way(sign):
    lock = ContactLock("right", "index", "chin", 20, 36)
    before, after = gap_mm(sign, lock), gap_mm(locked_project(sign, lock, BODY), lock)
    from engine.notation.contact_hold import _weights

    frames = np.arange(20 - EASE_FRAMES, 20)
    expected = (1 - _weights(lock, frames)) * before[frames]
    np.testing.assert_allclose(after[frames], expected, atol=1.5)


def test_a_locked_body_track_is_not_moved(sign):
    lock = ContactLock("right", "index", "chin", 20, 36)
    held = locked_project(sign, lock, BODY).replace(locked=frozenset({"body"}))
    with pytest.raises(MotionError, match="body track is locked"):
        locked_project(held, ContactLock("left", "index", "chest", 5, 9), BODY)
    edit = delete_key_edit(held, 30)                  # regenerating holds nothing there
    assert edit.project.motion.body_pose.tobytes() == held.motion.body_pose.tobytes()


@pytest.mark.parametrize("site, point", [("chin", "index"), ("cheek", "thumb"),
                                         ("forehead", "middle"), ("chest", "index")])
def test_the_arm_reaches_with_the_wrist_bent_as_the_sign_bends_it(sign, site, point):
    """The shoulder and elbow bring the point to the site; the wrist keeps about the
    bend the sign gave it (a hand kept at its orientation in space instead bent the
    wrist past 100 degrees when raised from the chest to the chin)."""
    wrist = JOINT_INDEX["right_wrist"] - 1
    lock = ContactLock("right", point, site, 10, 25)
    held = locked_project(sign, lock, BODY)
    assert gap_mm(held, lock)[10:25].max() < 1.0

    def bend(project):
        return np.degrees(np.linalg.norm(project.motion.body_pose[10:25, wrist], axis=1))

    assert bend(held).max() < bend(sign).max() + 10
