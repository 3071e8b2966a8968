"""The 3D viewport (needs a real X server: run under Xvfb, see FACTS.md)."""
import os

import numpy as np
import pytest

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY"),
                       reason="the pyvistaqt viewport needs an X display: run under "
                              "xvfb-run -a -s '-screen 0 1280x1024x24' python -m pytest"),
]


def test_viewport_shows_the_current_frame_and_camera_presets(make_window, qtbot):
    window = make_window(with_viewport=True)
    viewport = window.viewport
    handle = window.generate("hello", "ase")
    with qtbot.waitSignal(viewport.frame_shown, timeout=10000):
        pass
    first = viewport.screenshot()
    assert first.std() > 5  # not a blank image: the avatar is drawn
    # A frame where the right hand has formed a letter looks different.
    segment = window.document.project.segments[0]
    with qtbot.waitSignal(viewport.frame_shown, timeout=5000) as shown:
        window.document.set_frame(segment.end - 1)
    assert shown.args == [segment.end - 1]
    posed = viewport.screenshot()
    assert (posed != first).any(axis=-1).sum() > 50  # the hand changed shape
    viewport.set_camera("hands")
    close_up = viewport.screenshot()
    assert np.abs(close_up.astype(int) - posed.astype(int)).mean() > 2
    with pytest.raises(ValueError, match="camera preset"):
        viewport.set_camera("ceiling")
    assert handle is not None


def test_playback_advances_in_real_time(make_window, qtbot):
    window = make_window(with_viewport=True)
    with qtbot.waitSignal(window.generate("hello", "ase").finished, timeout=10000):
        pass
    window.playback.set_loop(False)
    window.playback.play()
    qtbot.wait(500)
    window.playback.pause()
    fps = window.document.project.motion.fps
    assert 0.5 * 0.5 * fps <= window.document.frame <= 0.5 * fps * 1.5 + 2
    assert window.viewport.frames_rendered > 2  # (Xvfb renders in software: few fps)
