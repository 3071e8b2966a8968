"""The rotate gizmo, driven with real mouse events: rings around the chosen joint, a
ring dragged turns the joint about that axis in the direction of the drag, a key is
set on release (one undo step), Esc puts the joint back (needs an X server: Xvfb)."""
import os

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from scipy.spatial.transform import Rotation

from engine.body.skeleton import JOINT_INDEX
from studio.viewport.screen import screen_of
from tests.studio.conftest import released_key
from tests.studio.menus import menu_action

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY"),
                       reason="the pyvistaqt viewport needs an X display: run under "
                              "xvfb-run -a -s '-screen 0 1280x1024x24' python -m pytest"),
]

ELBOW = JOINT_INDEX["right_elbow"]


def face_on_ring(window):
    """(axis, grab pixel, end pixel 50 degrees on along the ring) of the ring that faces
    the camera most, and the grabbed world point."""
    gizmo, plotter = window.rotate_gizmo, window.viewport.plotter
    camera = np.asarray(plotter.camera.position) - gizmo.centre
    axis = int(np.argmax([abs(np.dot(gizmo.axes[:, a], camera)) for a in range(3)]))
    ring = gizmo.rings[axis]
    screen = np.array([screen_of(plotter, p) for p in ring])[:, :2]
    start = int(np.argmax(screen[:, 0]))          # the ring's rightmost point
    end = (start + 10) % (len(ring) - 1)          # 10 of 71 steps: 50 degrees on
    grab = QPoint(*np.round(screen[start]).astype(int))
    to = QPoint(*np.round(screen[end]).astype(int))
    return axis, grab, to, ring[start]


def turn_of(before, after, frame, joint):
    """The joint's local turn between two projects at ``frame``: (rotvec (3,))."""
    old = Rotation.from_rotvec(before.motion.full_pose()[frame, joint])
    new = Rotation.from_rotvec(after.motion.full_pose()[frame, joint])
    return (new * old.inv()).as_rotvec()


def test_dragging_a_ring_turns_the_joint_that_way_and_sets_a_key(posed, qtbot):
    window, frame = posed
    gizmo, doc = window.rotate_gizmo, window.document
    window.properties.joint.setCurrentIndex(ELBOW)
    menu_action(window, "&View", "&Rotate gizmo").trigger()
    assert gizmo.on and len(gizmo.rings) == 3
    before = doc.committed_project
    axis, grab, to, grabbed = face_on_ring(window)
    interactor = window.viewport.plotter.interactor
    qtbot.mouseMove(interactor, grab)                     # hovering shows what it grabs
    assert gizmo.hovered == axis
    assert f"to turn the right elbow about its {'XYZ'[axis]} axis" in \
        window.statusBar().currentMessage()
    qtbot.mousePress(interactor, Qt.MouseButton.LeftButton, pos=grab)
    assert gizmo.dragging and not window.hand_drag.dragging
    qtbot.mouseMove(interactor, to)
    assert doc.in_preview
    turn = turn_of(before, doc.project, frame, ELBOW)
    # About the ring's axis only, by about the angle swept on screen.
    assert abs(turn[axis]) == pytest.approx(np.linalg.norm(turn), rel=1e-4)
    assert 30 < np.degrees(np.linalg.norm(turn)) < 70
    # The grabbed point of the ring went the way the mouse went.
    world_turn = Rotation.from_rotvec(gizmo.axes[:, axis] * turn[axis])
    moved = screen_of(window.viewport.plotter,
                      gizmo.centre + world_turn.apply(grabbed - gizmo.centre))
    assert np.hypot(moved[0] - to.x(), moved[1] - to.y()) < 0.5 * np.hypot(
        grab.x() - to.x(), grab.y() - to.y())
    released_key(qtbot, window, frame, to)
    committed = doc.committed_project
    np.testing.assert_allclose(turn_of(before, committed, frame, ELBOW), turn, atol=1e-5)
    assert doc.selected_key == frame
    assert "Turn the right elbow" in doc.undo_stack.undoText()
    doc.undo_stack.undo()
    assert doc.committed_project.equals(before)


def test_escape_puts_the_joint_back_and_a_press_off_the_rings_passes_on(posed, qtbot):
    window, frame = posed
    gizmo, doc = window.rotate_gizmo, window.document
    gizmo.set_on(True)
    before = doc.committed_project
    interactor = window.viewport.plotter.interactor
    qtbot.mousePress(interactor, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.mouseRelease(interactor, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert not gizmo.dragging and not doc.in_preview
    _, grab, to, _ = face_on_ring(window)
    qtbot.mousePress(interactor, Qt.MouseButton.LeftButton, pos=grab)
    qtbot.mouseMove(interactor, to)
    assert doc.in_preview
    qtbot.keyClick(interactor, Qt.Key.Key_Escape)
    qtbot.mouseRelease(interactor, Qt.MouseButton.LeftButton, pos=to)
    assert not doc.in_preview and doc.committed_project is before
    gizmo.set_on(False)
    assert gizmo.rings == []
