"""The 3D viewport (needs a real X server: run under Xvfb, see FACTS.md)."""
import os
import time

import numpy as np
import pytest

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY"),
                       reason="the pyvistaqt viewport needs an X display: run under "
                              "xvfb-run -a -s '-screen 0 1280x1024x24' python -m pytest"),
]

SMPLX_VERTICES = 10475


@pytest.fixture(scope="module")
def avatar():
    from engine.body import default_avatar

    return default_avatar()


@pytest.fixture(scope="module")
def smplx_folder(tmp_path_factory, avatar):
    from tests.synthetic_smplx import write_synthetic_smplx

    folder = tmp_path_factory.mktemp("smplx_models")
    write_synthetic_smplx(folder / "smplx" / "SMPLX_NEUTRAL.npz", avatar.rest_joints)
    return folder


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """No SMPL-X folder from the user's environment or saved settings."""
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_SMPLX_DIR", raising=False)


def moving_motion(frames=60, fps=30):
    """Arms and fingers that move every frame, so every frame has its own pose."""
    from engine.motion import Motion

    motion = Motion.zeros(frames, fps=fps)
    phase = np.linspace(0, 2 * np.pi, frames, dtype=np.float32)[:, None, None]
    body = np.zeros(motion.body_pose.shape, np.float32)
    body[:, 15:17, 2] = 0.6 * np.sin(phase[:, :, 0])       # both shoulders swing
    body[:, 17:19, 1] = 0.8 * np.cos(phase[:, :, 0])       # elbows bend
    hand = 0.5 * (1 + np.sin(phase)) * np.ones(motion.right_hand_pose.shape, np.float32)
    return motion.replace(body_pose=body, right_hand_pose=hand)


@pytest.fixture
def make_viewport(qtbot, avatar, isolated_settings):
    """A shown ViewportWidget on its own Document; closed afterwards."""
    from engine.motion import Project
    from studio.document import Document
    from studio.viewport import ViewportWidget

    made = []

    def make(project=None, body=None, **kwargs):
        document = Document(project or Project(motion=moving_motion()))
        viewport = ViewportWidget(document, body or avatar, **kwargs)
        viewport.resize(480, 400)
        with qtbot.waitSignal(viewport.frame_shown, timeout=10000):
            viewport.show()
        made.append(viewport)
        return document, viewport

    yield make
    for viewport in made:
        viewport.close_view()
        viewport.close()
        viewport.deleteLater()


def test_viewport_shows_the_current_frame_and_camera_presets(make_window, qtbot):
    window = make_window(with_viewport=True)
    viewport = window.viewport
    handle = window.lexicon_actions.generate("hello", "ase")
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


def test_mesh_is_posed_at_the_current_frame(make_viewport, qtbot, avatar):
    document, viewport = make_viewport()
    motion = document.project.motion
    for frame in (17, 42, 3):
        with qtbot.waitSignal(viewport.frame_shown, timeout=5000) as shown:
            document.set_frame(frame)
        assert shown.args == [frame]
        expected = avatar.forward(motion, frames=np.array([frame])).vertices[0]
        np.testing.assert_allclose(viewport.mesh.points, expected, atol=1e-6)
        # The normals drawn are those of this pose (unit length, not the rest pose's).
        normals = viewport.mesh.point_data["Normals"]
        assert np.allclose(np.linalg.norm(normals[avatar.faces[:, 0]], axis=1), 1, atol=1e-4)
    # A new project (an edit) re-poses the same frame with the new motion.
    from engine.motion import Project

    raised = motion.replace(transl=motion.transl + np.float32([0, 0.25, 0]))
    with qtbot.waitSignal(viewport.frame_shown, timeout=5000):
        document.new(Project(motion=raised))
    expected = avatar.forward(raised, frames=np.array([0])).vertices[0]
    np.testing.assert_allclose(viewport.mesh.points, expected, atol=1e-6)


@pytest.mark.slow
def test_renders_only_when_something_changed(make_viewport, qtbot):
    document, viewport = make_viewport(quality="draft")
    qtbot.wait(400)
    frames, paints = viewport.frames_rendered, viewport.paints
    qtbot.wait(600)  # nothing changes: no timer may redraw the scene
    assert (viewport.frames_rendered, viewport.paints) == (frames, paints)
    document.set_frame(document.frame)  # same frame: nothing to draw
    qtbot.wait(200)
    assert viewport.paints == paints
    # Many changes before Qt gets to paint cost one skinning and one render, of the last.
    for frame in range(5, 15):
        document.set_frame(frame)
    with qtbot.waitSignal(viewport.frame_shown, timeout=5000) as shown:
        pass
    assert shown.args == [14]
    assert viewport.frames_rendered == frames + 1


@pytest.mark.slow
def test_high_quality_antialiases_a_still_frame_once(make_viewport, qtbot):
    document, viewport = make_viewport(quality="high")
    with qtbot.waitSignal(viewport.frame_shown, timeout=5000):
        document.set_frame(10)
    assert not viewport.antialiased  # a frame that just changed is drawn fast
    qtbot.waitUntil(lambda: viewport.antialiased, timeout=3000)
    qtbot.wait(100)
    paints = viewport.paints
    qtbot.wait(500)
    assert viewport.paints == paints  # refined once, then nothing more
    with pytest.raises(ValueError, match="render quality"):
        viewport.set_quality("ultra")


@pytest.mark.slow  # loads torch and smplx (a few seconds, more on a busy machine)
def test_switching_to_smplx_shows_its_mesh(make_viewport, qtbot, smplx_folder):
    from engine.body import SmplxBody
    from engine.motion import Project

    document, viewport = make_viewport()
    assert viewport.mesh.n_points == viewport.body.num_vertices == 13718
    messages = []
    viewport.avatar_message.connect(messages.append)
    with qtbot.waitSignal(viewport.frame_shown, timeout=20000):
        message = viewport.use_avatar("smplx", smplx_dir=smplx_folder)
    assert isinstance(viewport.body, SmplxBody) and not viewport.avatar_fallback
    assert viewport.mesh.n_points == SMPLX_VERTICES
    assert "SMPL-X" in message and messages == [message]
    frame = document.frame
    expected = viewport.body.forward(document.project.motion, frames=np.array([frame])).vertices[0]
    np.testing.assert_allclose(viewport.mesh.points, expected, atol=1e-5)

    # The project's avatar choice drives the viewport: back to the default avatar...
    smplx = viewport.body
    with qtbot.waitSignal(viewport.body_changed, timeout=5000):
        document.new(Project(motion=moving_motion(), avatar="default"))
    assert viewport.mesh.n_points == 13718
    # ...and to SMPL-X again (loaded once: the same model object comes back).
    with qtbot.waitSignal(viewport.body_changed, timeout=20000):
        document.new(Project(motion=moving_motion(), avatar="smplx"))
    assert viewport.body is smplx and viewport.mesh.n_points == SMPLX_VERTICES


def test_missing_smplx_files_fall_back_with_a_message(make_viewport, qtbot, tmp_path):
    from engine.motion import Project

    document, viewport = make_viewport()
    empty = tmp_path / "empty_models"
    empty.mkdir()
    message = viewport.use_avatar("smplx", smplx_dir=empty)
    assert viewport.avatar_fallback
    assert viewport.body.num_vertices == viewport.mesh.n_points == 13718
    assert "SMPLX_NEUTRAL.npz" in message and str(empty) in message
    assert "default avatar" in message and "Settings" in message

    # Nothing configured anywhere: the message says so. Opening such a project falls
    # back the same way, announced through the signal.
    viewport.smplx_dir = None
    with qtbot.waitSignal(viewport.avatar_message, timeout=5000):
        document.new(Project(motion=moving_motion(), avatar="default"))
    assert not viewport.avatar_fallback
    with qtbot.waitSignal(viewport.avatar_message, timeout=5000) as said:
        document.new(Project(motion=moving_motion(), avatar="smplx"))
    assert "no SMPL-X folder configured" in said.args[0]
    assert viewport.avatar_fallback and viewport.mesh.n_points == 13718

    # A file that is not an SMPL-X model is refused by name, not shown half-loaded.
    bad = tmp_path / "bad_models"
    bad.mkdir()
    np.savez(bad / "SMPLX_NEUTRAL.npz", v_template=np.zeros((3, 3)))
    message = viewport.use_avatar("smplx", smplx_dir=bad)
    assert viewport.avatar_fallback and "SMPLX_NEUTRAL.npz" in message
    assert viewport.mesh.n_points == 13718


class SlowBody:
    """The default avatar, but each forward takes ``delay`` seconds longer."""

    def __init__(self, body, delay):
        self._body, self.delay = body, delay

    def __getattr__(self, name):
        return getattr(self._body, name)

    def forward(self, motion, frames=None):
        time.sleep(self.delay)
        return self._body.forward(motion, frames=frames)


@pytest.mark.slow  # plays in real time
def test_frame_skipping_keeps_playback_in_real_time(make_viewport, qtbot, avatar):
    from engine.motion import Project
    from studio.playback import PlaybackController

    fps, delay = 30, 0.08   # drawing a frame takes longer than 2 frames last
    document, viewport = make_viewport(Project(motion=moving_motion(200, fps)),
                                       body=SlowBody(avatar, delay), quality="draft")
    playback = PlaybackController(document)
    playback.set_loop(False)
    rendered = viewport.frames_rendered
    start = time.perf_counter()
    playback.play()
    qtbot.wait(1200)
    elapsed = time.perf_counter() - start
    due = elapsed * fps
    # The document's frame follows the wall clock, not the (slow) drawing.
    assert due - 5 <= document.frame <= due + 1
    playback.pause()
    drawn = viewport.frames_rendered - rendered
    assert 3 <= drawn <= elapsed / delay + 1     # every draw took its 80 ms...
    assert playback.frames_skipped > 0           # ...so frames were dropped, not queued
    assert playback.frames_set + playback.frames_skipped == document.frame
    # After pausing, the frame on screen catches up with the document's.
    with qtbot.waitSignal(viewport.frame_shown, timeout=3000) as shown:
        pass
    assert shown.args == [document.frame]
    np.testing.assert_allclose(
        viewport.mesh.points,
        avatar.forward(document.project.motion, frames=np.array([document.frame])).vertices[0],
        atol=1e-6)


@pytest.mark.slow  # plays in real time
def test_looping_playback_wraps_without_drift(qtbot):
    from engine.motion import Project
    from studio.document import Document
    from studio.playback import PlaybackController

    document = Document(Project(motion=moving_motion(10, fps=30)))  # 1/3 s long
    playback = PlaybackController(document)
    playback.set_loop(True)
    start = time.perf_counter()
    playback.play()
    qtbot.wait(1100)
    expected = int((time.perf_counter() - start) * 30) % 10
    frame = document.frame
    playback.pause()
    assert (frame - expected) % 10 in (0, 1, 9)


@pytest.mark.slow  # plays in real time
def test_playback_advances_in_real_time(make_window, qtbot):
    window = make_window(with_viewport=True)
    with qtbot.waitSignal(window.lexicon_actions.generate("hello", "ase").finished, timeout=10000):
        pass
    window.playback.set_loop(False)
    window.playback.play()
    qtbot.wait(500)
    window.playback.pause()
    fps = window.document.project.motion.fps
    assert 0.5 * 0.5 * fps <= window.document.frame <= 0.5 * fps * 1.5 + 2
    assert window.viewport.frames_rendered > 2  # (Xvfb renders in software: few fps)
