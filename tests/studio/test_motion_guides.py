"""Motion guides in the viewport: wrist and fingertip trails over the frames the
timeline shows, and the onion skin of the keys either side of the playhead (needs a
real X server: run under Xvfb)."""
import os

import numpy as np
import pytest

from tests.studio.menus import menu_action

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY"),
                       reason="the pyvistaqt viewport needs an X display: run under "
                              "xvfb-run -a -s '-screen 0 1280x1024x24' python -m pytest"),
]


def test_trails_follow_the_hand_over_the_frames_the_timeline_shows(make_window, qtbot):
    from engine.body.default_avatar import default_avatar
    from engine.body.skeleton import JOINT_INDEX
    from engine.face.perform import performed_motion
    from engine.workflows.notation import sign_from_notation

    window = make_window(with_viewport=True)
    viewport = window.viewport
    # A one-handed sign from notation: the flat hand moves from the chest outwards.
    with qtbot.waitSignal(viewport.frame_shown, timeout=10000):
        window.document.new(sign_from_notation("flathand extfingeru palml chest touch moveo"))
    window.timeline.fit_to_width()
    window.document.set_frame(window.document.project.motion.num_frames // 2)
    viewport.show_frame()
    plain = viewport.screenshot()

    menu_action(window, "&View", "Motion &trails").trigger()
    trails = viewport.guides.trails
    # The signing (right) hand's wrist and fingertip; the resting left hand draws none.
    assert set(trails) == {"right_wrist", "right_index_tip"}
    first, last = window.timeline.visible_frames()
    motion = performed_motion(window.document.project)
    joints = default_avatar().forward(motion, frames=np.array([first, last])).joints
    np.testing.assert_allclose(trails["right_wrist"][[0, -1]],
                               joints[:, JOINT_INDEX["right_wrist"]], atol=1e-4)
    assert np.linalg.norm(np.diff(trails["right_wrist"], axis=0), axis=1).sum() > 0.1
    shown = viewport.screenshot()
    blue = np.array([0x2f, 0x6f, 0xd0])
    assert (np.abs(shown.astype(int) - blue).sum(axis=-1) < 60).sum() > \
        (np.abs(plain.astype(int) - blue).sum(axis=-1) < 60).sum() + 30

    # Zoomed in, the timeline shows fewer frames: the trail covers only those.
    window.timeline.set_zoom(40.0)
    window.timeline.horizontalScrollBar().setValue(0)
    first, last = window.timeline.visible_frames()
    assert len(viewport.guides.trails["right_wrist"]) == last - first + 1
    menu_action(window, "&View", "Motion &trails").trigger()
    assert viewport.guides.trails == {}
    assert not any(name.startswith("trail_") for name in viewport.plotter.renderer.actors)


def test_onion_skin_shows_the_keys_either_side_and_follows_the_playhead(make_window, qtbot):
    from engine.body.default_avatar import default_avatar

    window = make_window(with_viewport=True)
    viewport = window.viewport
    handle = window.lexicon_actions.generate("hello", "ase")
    with qtbot.waitSignal(handle.finished, timeout=10000):
        pass
    qtbot.waitUntil(lambda: len(window.document.project.keyframes) >= 3, timeout=5000)
    keys = sorted(k.frame for k in window.document.project.keyframes)
    between = (keys[1] + keys[2]) // 2 if keys[2] - keys[1] > 1 else keys[1] + 1
    window.document.set_frame(between)
    viewport.show_frame()
    menu_action(window, "&View", "&Onion skin").trigger()
    assert viewport.guides.onion_frames == {"before": max(k for k in keys if k < between),
                                            "after": min(k for k in keys if k > between)}
    actors = viewport.plotter.renderer.actors
    assert {"onion_before", "onion_after"} <= set(actors)
    # The faint copy is the avatar at that key.
    before = viewport.guides.onion_frames["before"]
    expected = default_avatar().forward(window.document.project.motion,
                                        frames=np.array([before])).vertices[0]
    from vtkmodules.util.numpy_support import vtk_to_numpy

    np.testing.assert_allclose(vtk_to_numpy(
        actors["onion_before"].GetMapper().GetInput().GetPoints().GetData()), expected,
        atol=1e-4)
    # At the first frame there is no key before it: only the one after.
    with qtbot.waitSignal(viewport.frame_shown, timeout=5000):
        window.document.set_frame(0)
    assert "before" not in viewport.guides.onion_frames
    assert "onion_before" not in viewport.plotter.renderer.actors
    menu_action(window, "&View", "&Onion skin").trigger()
    assert viewport.guides.onion_frames == {}
