"""A reference recording beside the viewport, synced to the timeline: the frame shown is
the recording at the playhead's time (plus the offset); a file that is not a video is
named in a message and shows nothing."""
import numpy as np
import pytest


def _write_numbered_video(path, frames=20, fps=10):
    """A video whose frame i is a flat grey of level 10 * i + 20 (what each shown frame
    can be told by)."""
    import imageio.v3 as iio

    video = np.stack([np.full((96, 128, 3), 10 * i + 20, np.uint8) for i in range(frames)])
    iio.imwrite(path, video, fps=fps, codec="libx264", plugin="pyav")
    return path


def _level(panel) -> float:
    image = panel.image.pixmap().toImage()
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    return colour.red()


def test_the_recording_follows_the_playhead(generated, qtbot, tmp_path):
    window = generated
    path = _write_numbered_video(tmp_path / "take.mp4")
    handle = window.open_reference_video(str(path))
    with qtbot.waitSignal(handle.finished, timeout=15000):
        pass
    panel = window.reference
    assert panel.isVisible() and panel.video.fps == 10
    assert "take.mp4" in panel.title.text()
    fps = window.document.project.motion.fps       # 30: three project frames a video frame
    for frame in (0, 9, 31):
        window.document.set_frame(frame)
        expected = min(int(frame / fps * 10), 19)
        assert panel.shown_index == expected
        assert abs(_level(panel) - (10 * expected + 20)) <= 6
    # An offset shifts the recording against the project.
    window.document.set_frame(0)
    panel.offset.setValue(0.5)
    assert panel.shown_index == 5
    panel.clear()
    assert not panel.isVisible()


def test_a_file_that_is_not_a_video_is_named_and_nothing_is_shown(generated, qtbot, tmp_path,
                                                                  monkeypatch):
    window = generated
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    errors = []
    monkeypatch.setattr(window, "show_error", lambda title, text: errors.append((title, text)))
    handle = window.open_reference_video(str(bad))
    with qtbot.waitSignal(handle.failed, timeout=15000):
        pass
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert "notes.mp4" in errors[0][0] and "not a readable video" in errors[0][1]
    assert window.reference.video is None and not window.reference.isVisible()


def test_reading_names_a_missing_file_and_keeps_frames_small(tmp_path):
    from engine.data.reference_video import (
        MAX_HEIGHT, ReferenceVideoError, load_reference_video,
    )

    with pytest.raises(ReferenceVideoError, match="missing.mp4: no such file"):
        load_reference_video(tmp_path / "missing.mp4")
    import imageio.v3 as iio

    tall = np.zeros((6, 480, 320, 3), np.uint8)
    iio.imwrite(tmp_path / "tall.mp4", tall, fps=25, codec="libx264", plugin="pyav")
    video = load_reference_video(tmp_path / "tall.mp4")
    assert video.size == (160, MAX_HEIGHT) and len(video.frames) == 6
    assert video.image_at(0.1).shape == (MAX_HEIGHT, 160, 3)
