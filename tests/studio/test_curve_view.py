"""The curve view: a joint's rotation channels over time with its keys; clicking a key's
dot selects it, clicking elsewhere moves the playhead (real mouse events)."""
import numpy as np
from PySide6.QtCore import QPoint, Qt

from tests.studio.menus import menu_action


def _shown_curves(window, qtbot):
    menu_action(window, "&View", "&Curve view").trigger()
    qtbot.waitUntil(lambda: window.curves.isVisible(), timeout=3000)
    return window.curves


def test_the_curves_are_the_joints_angles_with_its_keys_on_them(generated, qtbot):
    from engine.body.skeleton import JOINT_NAMES
    from engine.motion.curves import rotation_curves
    from scipy.spatial.transform import Rotation

    window = generated
    curves = _shown_curves(window, qtbot)
    project = window.document.project
    wrist = JOINT_NAMES.index("right_wrist")
    assert curves.joint == wrist                       # the Joint box's default
    drawn = curves.curves()
    assert drawn.shape == (project.motion.num_frames, 3)
    # The same angles the angle boxes show for a key (Euler XYZ, degrees) ...
    frame = project.keyframes[1].frame
    expected = Rotation.from_rotvec(project.motion.full_pose()[frame, wrist]).as_euler(
        "XYZ", degrees=True)
    assert np.allclose(np.mod(drawn[frame] - expected + 180, 360) - 180, 0, atol=1e-3)
    # ... continuous in time: no 360-degree jumps.
    assert np.abs(np.diff(drawn, axis=0)).max() < 90
    assert curves.key_frames() == [k.frame for k in project.keyframes
                                   if "body" in k.channels]
    # The Joint box chooses the joint drawn.
    finger = JOINT_NAMES.index("right_index1")
    window.properties.joint.setCurrentIndex(window.properties.joint.findData(finger))
    assert curves.joint == finger
    np.testing.assert_allclose(curves.curves(), rotation_curves(project.motion, finger))
    assert curves.key_frames() == [k.frame for k in project.keyframes
                                   if "right_hand" in k.channels]


def test_clicking_a_key_selects_it_and_clicking_elsewhere_moves_the_playhead(generated,
                                                                            qtbot):
    window = generated
    curves = _shown_curves(window, qtbot)
    keys = curves.key_frames()
    target = keys[2]
    dot = curves.key_point(target, 1).toPoint()
    window.document.set_frame(0)
    qtbot.mouseClick(curves, Qt.MouseButton.LeftButton, pos=dot)
    assert window.document.selected_key == target
    assert window.document.frame == target
    # Away from every dot: the playhead goes to the frame under the mouse.
    free = (keys[0] + keys[1]) // 2
    point = QPoint(round(curves.x_of(free)), curves.height() - 12)
    assert curves.key_at(point.toPointF()) is None
    qtbot.mouseClick(curves, Qt.MouseButton.LeftButton, pos=point)
    assert window.document.frame == free
    # A drag scrubs.
    qtbot.mousePress(curves, Qt.MouseButton.LeftButton, pos=point)
    later = QPoint(round(curves.x_of(keys[-1] - 1)), point.y())
    qtbot.mouseMove(curves, later)
    qtbot.mouseRelease(curves, Qt.MouseButton.LeftButton, pos=later)
    assert window.document.frame == curves.frame_at(later.x())
