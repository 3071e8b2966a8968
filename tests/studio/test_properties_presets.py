"""The handshape box names the selected key's hand, not the first letter of the list."""
import dataclasses

import numpy as np

from studio.panels.properties_panel import closest_handshape
from tests.engine.test_key_edits import key_between_neighbours


def test_the_closest_preset_is_the_one_the_hand_is_in():
    from engine.body.reference_poses import RIGHT_HAND_SHAPES, mirror_hand_pose

    presets = {"ASL B": RIGHT_HAND_SHAPES["flat"], "ASL A": RIGHT_HAND_SHAPES["fist"],
               "ASL V": RIGHT_HAND_SHAPES["asl_v"]}
    assert closest_handshape(RIGHT_HAND_SHAPES["fist"], presets) == ("ASL A", 0.0)
    name, degrees = closest_handshape(RIGHT_HAND_SHAPES["asl_v"] * 0.9, presets)
    assert name == "ASL V" and 0 < degrees < 10
    left_fist = mirror_hand_pose(RIGHT_HAND_SHAPES["fist"])
    assert closest_handshape(left_fist, presets, mirrored=True)[0] == "ASL A"


def test_selecting_a_key_shows_its_handshape(generated, qtbot):
    window, doc = generated, generated.document
    panel = window.properties
    qtbot.waitUntil(lambda: panel.preset.count() == 5, timeout=5000)
    _, key, _ = key_between_neighbours(doc.project)
    for name in ("ASL B", "ASL H"):
        doc.select_key(key)
        panel.apply_handshape(name)
        doc.select_key(None)
        doc.select_key(key)
        assert panel.preset.currentText() == name
        assert f"right hand is {name} (0° per joint" in panel.preset_match.text()
    assert np.isfinite(doc.project.motion.right_hand_pose).all()


def test_mirroring_a_key_and_the_whole_project_are_one_undo_step_each(generated, qtbot):
    from PySide6.QtCore import Qt

    from engine.body.mirror import mirror_keyframe, mirror_project

    window, doc = generated, generated.document
    before = doc.project
    _, key, _ = key_between_neighbours(before)
    doc.select_key(key)
    count = doc.undo_stack.count()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.timeline.setFocus()
    qtbot.keyClick(window.timeline, Qt.Key.Key_M)  # Edit > Mirror keyframe
    qtbot.waitUntil(lambda: doc.undo_stack.count() == count + 1, timeout=5000)
    mirrored = mirror_keyframe(before.keyframe_at(key))
    # the pose mirrored; mirroring one key is the user's edit, so the key is now theirs
    assert doc.project.keyframe_at(key).equals(dataclasses.replace(mirrored, generated=False))
    doc.undo_stack.undo()
    assert doc.project.equals(before)
    window.edit_actions.mirror_project()
    assert doc.project.equals(mirror_project(before))
    doc.undo_stack.undo()
    assert doc.project.equals(before)
