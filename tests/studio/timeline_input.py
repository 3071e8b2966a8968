"""Clicking keys on the timeline the way a user does, and finding keys to click."""
from PySide6.QtCore import Qt

TRACK = 2  # right hand


def group_with_room(project, room=4):
    """Three neighbouring keys with ``room`` frames free before and after them."""
    frames = sorted(k.frame for k in project.keyframes)
    for i in range(1, len(frames) - 3):
        if frames[i + 3] - frames[i + 2] > room + 1 and frames[i] - frames[i - 1] > room + 1:
            return tuple(frames[i:i + 3])
    raise AssertionError(f"no three keys with room after them in {frames}")


def click_key(qtbot, view, frame, shift=False):
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier,
                     view.view_point(frame, view.track_y(TRACK)))


def select_by_shift_click(qtbot, view, frames):
    click_key(qtbot, view, frames[0])
    for frame in frames[1:]:
        click_key(qtbot, view, frame, shift=True)
