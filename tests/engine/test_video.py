"""Video export (MP4/GIF/WebM): real files read back with imageio, compared to renders."""
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.reference_poses import arms_down, reference_poses
from engine.data.keypoints import BODY_INDEX, KeypointSequence
from engine.jobs import Cancelled, CancelToken
from engine.motion import Motion
from engine.motion.interpolate import chain
from engine.motion.project import Segment, SegmentKind

pytestmark = pytest.mark.gl
W, H = 160, 120


@pytest.fixture(scope="module")
def video():
    try:
        from engine.export import video
        from engine.export.render import OffscreenRenderer
        OffscreenRenderer(default_avatar(), 32, 32).close()
    except Exception as error:  # no EGL/GL on this machine
        pytest.skip(f"no off-screen OpenGL context: {error}")
    return video


@pytest.fixture(scope="module")
def clip() -> Motion:
    """6 frames at 30 fps: arms down, moving to a right fist in the T-pose."""
    poses = reference_poses()
    return chain([arms_down(poses["rest_t_pose"]), poses["right_fist"]], 1, 4)


def _frames(path: Path) -> np.ndarray:
    return np.asarray(iio.imread(path, index=None))


def _direct_render(motion: Motion, frame: int, camera="front") -> np.ndarray:
    from engine.export.render import OffscreenRenderer

    posed = default_avatar().forward(motion)
    with OffscreenRenderer(default_avatar(), W, H, anti_aliasing="none") as renderer:
        renderer.set_camera(camera, posed.joints)
        return renderer.render(posed.vertices[frame])


def test_an_mp4_frame_matches_a_direct_render(video, clip, tmp_path):
    out = video.export_video(clip, tmp_path / "clip.mp4", width=W, height=H)
    frames = _frames(out)
    assert frames.shape == (clip.num_frames, H, W, 3)
    for index in (0, 4):
        direct = _direct_render(clip, index)
        difference = np.abs(frames[index].astype(np.int16) - direct).mean()
        assert difference < 3.0, f"frame {index}: mean difference {difference:.2f}"
    # ... and the frames differ from each other where the avatar moved.
    assert np.abs(frames[0].astype(np.int16) - frames[4]).mean() > 1.0


@pytest.mark.slow
def test_gif_and_webm_read_back_with_the_right_frames_and_size(video, clip, tmp_path):
    for suffix in (".gif", ".webm"):
        out = video.export_video(clip, tmp_path / f"clip{suffix}", width=W, height=H)
        frames = _frames(out)
        assert frames.shape[:3] == (clip.num_frames, H, W), suffix
        assert frames[..., :3].min() < 200  # the avatar is there, not a blank video


def test_fps_resamples_the_motion(video, clip, tmp_path):
    import imageio_ffmpeg

    slow = clip.replace(fps=20.0)  # 6 frames over 0.25 s -> 30 fps gives 8 frames
    out = video.export_video(slow, tmp_path / "resampled.mp4", width=W, height=H, fps=30)
    count, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert count == 8 and seconds == pytest.approx(8 / 30, abs=0.01)


def test_progress_is_reported_per_frame(video, clip, tmp_path):
    calls = []
    video.export_video(clip, tmp_path / "p.gif", width=W, height=H,
                       progress=lambda done, total, message="": calls.append((done, total)))
    assert calls == [(i, clip.num_frames) for i in range(1, clip.num_frames + 1)]


@pytest.mark.slow
def test_cancel_leaves_no_file_and_the_previous_one_untouched(video, clip, tmp_path):
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"the user's previous export")
    token = CancelToken()

    def progress(done, total, message=""):
        if done == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        video.export_video(clip, target, width=W, height=H, progress=progress, cancel=token)
    assert target.read_bytes() == b"the user's previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]
    with pytest.raises(Cancelled):
        video.export_video(clip, tmp_path / "new.webm", width=W, height=H,
                           progress=progress, cancel=token)
    assert not (tmp_path / "new.webm").exists()


def test_a_failed_encode_leaves_no_file(video, clip, tmp_path, monkeypatch):
    from engine.export import video_pipeline

    real = video_pipeline.ffmpeg_command

    def broken(output, width, height, fps):
        command = real(output, width, height, fps)
        return command[:-1] + ["-no-such-ffmpeg-option", "1", command[-1]]

    monkeypatch.setattr(video_pipeline, "ffmpeg_command", broken)
    with pytest.raises(RuntimeError, match="encoding .*failed"):
        video.export_video(clip, tmp_path / "broken.mp4", width=W, height=H)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_captions_appear_in_the_bottom_band_only_while_active(video, clip, tmp_path):
    plain = _frames(video.export_video(clip, tmp_path / "plain.mp4", width=W, height=H))
    captioned = _frames(video.export_video(clip, tmp_path / "cap.mp4", width=W, height=H,
                                           captions=[(0, 3, "HELLO")]))
    band = slice(H - round(H * 0.14), H)
    change = np.abs(captioned.astype(np.int16) - plain).mean(axis=(2, 3))  # (F, H)
    for frame in range(clip.num_frames):
        in_band = change[frame, band].mean()
        if frame < 3:
            assert in_band > 15, f"frame {frame}: no caption in the band ({in_band:.1f})"
        else:
            assert in_band < 3, f"frame {frame}: caption shown after its end ({in_band:.1f})"
        assert change[frame, : H // 2].mean() < 3  # the avatar above is unchanged
    # White text on the dark box: both extremes are present in the band.
    assert captioned[0, band].max() > 200 and captioned[0, band].min() < 60


def test_captions_from_segments_skip_transitions():
    from engine.export.video import captions_from_segments

    segments = (Segment("A", "ase", 0, 10, kind=SegmentKind.FINGERSPELLED),
                Segment("-", "ase", 10, 14, kind=SegmentKind.TRANSITION),
                Segment("HELLO", "ase", 14, 30))
    assert captions_from_segments(segments) == [(0, 10, "A"), (14, 30, "HELLO")]


def _keypoints(num_frames: int) -> KeypointSequence:
    """A signer in the normalised frame: shoulders 1 unit apart, right hand raised."""
    body = np.zeros((num_frames, 33, 3), np.float32)
    places = {"LEFT_SHOULDER": (0.5, 0), "RIGHT_SHOULDER": (-0.5, 0), "LEFT_ELBOW": (0.6, -0.8),
              "RIGHT_ELBOW": (-0.8, -0.5), "LEFT_WRIST": (0.6, -1.5), "RIGHT_WRIST": (-0.6, 0.2),
              "LEFT_HIP": (0.35, -1.8), "RIGHT_HIP": (-0.35, -1.8), "NOSE": (0, 0.6)}
    conf_body = np.zeros((num_frames, 33), np.float32)
    for name, xy in places.items():
        body[:, BODY_INDEX[name], :2] = xy
        conf_body[:, BODY_INDEX[name]] = 1
    right = np.zeros((num_frames, 21, 3), np.float32)
    right[:, :, 0] = -0.6 + 0.02 * np.arange(21)
    right[:, :, 1] = 0.2 + 0.03 * np.arange(21)
    return KeypointSequence(
        body=body, face=np.zeros((num_frames, 478, 3), np.float32),
        left_hand=np.zeros((num_frames, 21, 3), np.float32), right_hand=right,
        confidence={"body": conf_body, "face": np.zeros((num_frames, 478), np.float32),
                    "left_hand": np.zeros((num_frames, 21), np.float32),
                    "right_hand": np.ones((num_frames, 21), np.float32)},
        fps=30.0)


def test_side_by_side_adds_a_keypoint_panel(video, clip, tmp_path):
    from engine.export.video_overlays import RIGHT_HAND_COLOUR

    out = video.export_video(clip, tmp_path / "sbs.mp4", width=W, height=H,
                             keypoints=_keypoints(clip.num_frames))
    frames = _frames(out)
    assert frames.shape == (clip.num_frames, H, 2 * W, 3)
    avatar, panel = frames[0, :, :W].astype(int), frames[0, :, W:].astype(int)
    assert np.abs(avatar - _direct_render(clip, 0)).mean() < 3.0
    red = np.abs(panel - RIGHT_HAND_COLOUR).sum(axis=2) < 90
    grey = (panel < 160).all(axis=2)
    assert red.sum() > 20, "the right hand's keypoints are not drawn"
    assert grey.sum() > 50, "the body skeleton is not drawn"
    # The right hand is raised on the subject's right: image left, upper half.
    ys, xs = np.nonzero(red)
    assert xs.mean() < W / 2 and ys.mean() < H / 2


@pytest.mark.parametrize("kwargs, message", [
    ({"path": "x.avi"}, "unknown video extension '.avi'"),
    ({"path": "x.mp4", "width": 161}, "width must be even"),
    ({"path": "x.webm", "height": 121}, "height must be even"),
    ({"path": "x.mp4", "width": 8}, "width must be 16"),
    ({"path": "x.mp4", "fps": 0}, "fps must be a finite number > 0"),
    ({"path": "x.mp4", "fps": float("nan")}, "fps must be a finite number > 0"),
    ({"path": "x.mp4", "camera": "top"}, "camera must be one of"),
    ({"path": "x.mp4", "background": (0, 0, 300)}, "background must be"),
    ({"path": "x.mp4", "captions": [(5, 2, "A")]}, r"captions\[0\] must have 0 <= start < end"),
    ({"path": "x.mp4", "anti_aliasing": "fxaa"}, "anti_aliasing must be one of"),
    ({"path": "x.mp4", "aim_frames": (3, 99)}, r"aim_frames: expected \[start, stop\)"),
    ({"path": "x.mp4", "aim_frames": "all"}, r"aim_frames: expected \[start, stop\)"),
])
def test_bad_arguments_give_clear_errors_and_write_nothing(clip, tmp_path, kwargs, message):
    from engine.export.video import export_video

    path = tmp_path / kwargs.pop("path")
    kwargs = {"width": W, "height": H, **kwargs}
    with pytest.raises(ValueError, match=message):
        export_video(clip, path, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_camera_can_be_aimed_at_the_signs_alone(video, tmp_path):
    """A close-up aimed at the signed frames frames them exactly as a clip of only those
    frames would be, however long the arm takes to rise from rest before them (aimed
    at the whole clip, the shot widens to follow the rise)."""
    from engine.body.reference_poses import signing_pose

    rest, raised = arms_down(Motion.zeros(1)), signing_pose("asl_v")
    signed = chain([raised, raised], 1, 3)
    whole = Motion.concatenate([rest, chain([rest, raised], 1, 4).slice(1, 6), signed])
    start = whole.num_frames - signed.num_frames
    aimed = _frames(video.export_video(whole, tmp_path / "aimed.mp4", width=W, height=H,
                                       camera="hands", aim_frames=(start, whole.num_frames)))
    alone = _direct_render(signed, 0, camera="hands")
    assert np.abs(aimed[-1].astype(np.int16) - alone).mean() < 3.0
    wide = _frames(video.export_video(whole, tmp_path / "wide.mp4", width=W, height=H,
                                      camera="hands"))
    assert np.abs(wide[-1].astype(np.int16) - alone).mean() > 10.0


def test_signs_span_runs_from_the_first_sign_to_the_last(video):
    segments = [Segment("A", "ase", 12, 20, 2, SegmentKind.FINGERSPELLED),
                Segment("~", "ase", 20, 24, 0, SegmentKind.TRANSITION),
                Segment("B", "ase", 24, 40, 2, SegmentKind.FINGERSPELLED)]
    assert video.signs_span(segments) == (12, 40)
    assert video.signs_span([]) is None


def test_gif_accepts_odd_sizes(video, clip, tmp_path):
    out = video.export_video(clip.slice(0, 2), tmp_path / "odd.gif", width=161, height=121)
    assert _frames(out).shape[:3] == (2, 121, 161)
