"""Posing in the viewport: a hand grabbed by its wrist or a fingertip and dragged with
real mouse events; the arm follows, a key is set on release and the motion around it
regenerated, one undo step (needs a real X server: run under Xvfb)."""
import os

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from studio.viewport.screen import world_at
from tests.studio.conftest import released_key

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY"),
                       reason="the pyvistaqt viewport needs an X display: run under "
                              "xvfb-run -a -s '-screen 0 1280x1024x24' python -m pytest"),
]


def _wrist(window, project, frame):
    from engine.body.trails import grab_points

    return grab_points(window.viewport.body, project.motion, frame)[("right", "wrist")]


def test_dragging_the_wrist_moves_the_arm_and_sets_a_key_on_release(posed, qtbot):
    window, frame = posed
    drag, doc = window.hand_drag, window.document
    before = doc.committed_project
    start = _wrist(window, before, frame)
    x, y, _ = drag.screen_of(start)
    interactor = window.viewport.plotter.interactor
    grab, to = QPoint(round(x), round(y)), QPoint(round(x) + 40, round(y) - 30)
    qtbot.mousePress(interactor, Qt.MouseButton.LeftButton, pos=grab)
    assert drag.dragging
    qtbot.mouseMove(interactor, to)
    message = window.statusBar().currentMessage()      # how far, live
    assert message.startswith("Dragging the right hand ") and f"cm at frame {frame}" in message
    plotter, depth = window.viewport.plotter, drag.screen_of(start)[2]
    target = world_at(plotter, to.x(), to.y(), depth)
    # The preview shows the wrist under the mouse, the hand's orientation kept.
    np.testing.assert_allclose(_wrist(window, doc.project, frame),
                               start + target - world_at(plotter, grab.x(), grab.y(), depth),
                               atol=2e-3)
    released_key(qtbot, window, frame, to)
    committed = doc.committed_project
    moved = _wrist(window, committed, frame) - start
    assert np.linalg.norm(moved) > 0.02                       # the hand went where dragged
    assert doc.selected_key == frame
    doc.undo_stack.undo()
    assert doc.committed_project.motion.equals(before.motion)
    assert doc.committed_project.keyframes == before.keyframes


def test_a_press_away_from_the_hands_orbits_and_esc_puts_a_dragged_hand_back(posed, qtbot):
    window, frame = posed
    drag, doc = window.hand_drag, window.document
    interactor = window.viewport.plotter.interactor
    qtbot.mousePress(interactor, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.mouseRelease(interactor, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert not drag.dragging and not doc.in_preview
    before = doc.committed_project
    from engine.body.trails import grab_points

    tip = grab_points(window.viewport.body, before.motion, frame)[("right", "index")]
    x, y, _ = drag.screen_of(tip)
    qtbot.mousePress(interactor, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    assert drag.dragging
    qtbot.mouseMove(interactor, QPoint(round(x) - 30, round(y) + 20))
    assert doc.in_preview
    qtbot.keyClick(interactor, Qt.Key.Key_Escape)
    assert not drag.dragging and not doc.in_preview
    assert doc.project is before
    # The button comes up (QTest keeps it down for the next test's moves otherwise).
    qtbot.mouseRelease(interactor, Qt.MouseButton.LeftButton, pos=QPoint(round(x) - 30,
                                                                         round(y) + 20))
    assert doc.project is before
