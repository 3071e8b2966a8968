"""The photoreal model (PGMM) on tiny configs: shapes, learning, checkpoints, export."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.jobs import Cancelled, CancelToken
from engine.learn.checkpoint import CheckpointError
from engine.learn.config import TrainConfig
from engine.learn.pgmm import Pgmm, PgmmConfig, keypoint_flow_warp
from engine.learn.pgmm_data import NUM_KEYPOINTS, Framing, signer_frames
from engine.learn.train_pgmm import (
    PgmmTrainConfig, evaluate_pgmm, load_pgmm, tcd, train_pgmm,
)
from engine.motion import Motion

TINY = PgmmConfig(size=32, channels=8, max_channels=16, scales=2, attention_max_size=8)


def tiny_config(steps: int) -> PgmmTrainConfig:
    return PgmmTrainConfig(model=TINY, train=TrainConfig(steps=steps, batch_size=4, lr=2e-3,
                                                         weight_decay=0.0, checkpoint_every=1000))


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from tests.signer_recording import write_signer_video

    return write_signer_video(tmp_path_factory.mktemp("signer") / "me.mp4", frames=30, size=128)


@pytest.fixture(scope="module")
def frames(recording):
    return signer_frames([recording], size=TINY.size)


def test_a_forward_pass_has_the_right_shapes():
    torch.manual_seed(0)
    model = Pgmm(TINY)
    source = torch.rand(2, 3, 32, 32)
    points = torch.rand(2, NUM_KEYPOINTS, 2) * 2 - 1
    seen = torch.ones(2, NUM_KEYPOINTS)
    out = model(source, points, points + 0.1, seen)
    assert out["image"].shape == (2, 3, 32, 32)
    assert out["flow"].shape == (2, 32, 32, 2) and out["occlusion"].shape == (2, 1, 32, 32)
    assert 0 <= float(out["image"].detach().min()) and float(out["image"].detach().max()) <= 1
    assert model.read_pose(source).shape == (2, NUM_KEYPOINTS, 16, 16)


def test_the_keypoint_warp_moves_the_image_with_its_keypoints():
    """The untrained baseline: a bright square at a keypoint follows the keypoint."""
    source = torch.zeros(1, 3, 32, 32)
    source[..., 4:10, 4:10] = 1.0                       # around (-0.55, -0.55) in [-1, 1]
    points = torch.full((1, NUM_KEYPOINTS, 2), 5.0)     # far away, except one
    points[0, 0] = torch.tensor([-0.55, -0.55])
    seen = torch.zeros(1, NUM_KEYPOINTS)
    seen[0, 0] = 1
    moved = points.clone()
    moved[0, 0] = torch.tensor([0.45, 0.45])
    warped = keypoint_flow_warp(source, points, moved, seen, sigma=0.3)
    assert float(warped[0, 0, 20:24, 20:24].mean()) > 0.9
    assert float(warped[0, 0, 4:10, 4:10].mean()) < 0.5


def test_a_recording_becomes_crops_with_keypoints(frames):
    assert frames.images.shape == (30, 3, 32, 32) and frames.images.dtype == np.uint8
    assert frames.points.shape == (30, NUM_KEYPOINTS, 2)
    assert frames.held_out.sum() == 4 and frames.held_out[-4:].all()   # the end, by time
    seen = frames.seen > 0
    assert seen[:, :15].all()                                          # the body points
    assert np.abs(frames.points[seen]).max() < 1.0                     # inside the crop
    framing = frames.framings[0]
    assert -0.6 < framing.shoulder_centre[1] < 0.2 and 0.3 < framing.shoulder_width < 1.0
    np.testing.assert_array_equal(Framing.from_array(framing.as_array()).as_array(),
                                  framing.as_array())


def test_a_few_training_steps_lower_the_loss_and_resume_matches(tmp_path, frames):
    config = tiny_config(24)
    result = train_pgmm([], tmp_path / "me.pt", config, frames=frames)
    assert np.mean(result.losses[-6:]) < 0.8 * np.mean(result.losses[:6])
    model = load_pgmm(result.path)
    assert model.config == TINY
    assert float(model.source_image.abs().sum()) > 0       # the signer travels with it
    # Cancelled at step 10 and resumed: the same losses as one run.
    cancel = CancelToken()

    def stop_at_ten(step, total, message=""):
        if step >= 10:
            cancel.cancel()

    with pytest.raises(Cancelled):
        train_pgmm([], tmp_path / "cut.pt", config, frames=frames, progress=stop_at_ten,
                   cancel=cancel)
    resumed = train_pgmm([], tmp_path / "cut.pt", config, frames=frames, resume=True)
    assert resumed.losses == pytest.approx(result.losses)


def test_a_tampered_checkpoint_is_refused(tmp_path, frames):
    path = train_pgmm([], tmp_path / "me.pt", tiny_config(2), frames=frames).path
    saved = torch.load(path, weights_only=True)
    name = next(iter(saved["state_dict"]))
    saved["state_dict"][name] = saved["state_dict"][name] + 1.0
    torch.save(saved, path)
    with pytest.raises(CheckpointError, match="me.pt"):
        load_pgmm(path)


def test_a_model_trained_before_arms_were_measured_still_loads(tmp_path, frames):
    import json

    from engine.learn.checkpoint import save_checkpoint

    path = train_pgmm([], tmp_path / "me.pt", tiny_config(2), frames=frames).path
    saved = torch.load(path, weights_only=True)
    saved["state_dict"]["framing"] = saved["state_dict"]["framing"][:6]   # the old layout
    save_checkpoint(path, saved["state_dict"], json.loads(saved["manifest"]))
    framing = Framing.from_array(load_pgmm(path).framing.numpy())
    assert framing.shoulder_width == pytest.approx(frames.framings[0].shoulder_width)
    assert (framing.upper_arm, framing.forearm) == (0.0, 0.0)             # not measured


def test_evaluation_scores_the_model_and_both_baselines(tmp_path, frames):
    model = load_pgmm(train_pgmm([], tmp_path / "me.pt", tiny_config(4), frames=frames).path)
    report = evaluate_pgmm(model, frames)
    assert set(report) == {"model", "nearest training frame", "keypoint warp"}
    for scores in report.values():
        assert 0 <= scores["l1"] <= 1 and -1 <= scores["ssim"] <= 1 and 0 <= scores["tcd"] <= 1
        assert 0 < scores["hands_l1"] <= 1
    # The nearest training frame is a real frame of the same signer: close already.
    assert report["nearest training frame"]["l1"] < 0.1


def test_the_hands_are_scored_where_they_are():
    from engine.learn.train_pgmm import hand_boxes

    points = np.zeros((2, NUM_KEYPOINTS, 2), np.float32)
    seen = np.zeros((2, NUM_KEYPOINTS), np.float32)
    right = slice(NUM_KEYPOINTS - 21, NUM_KEYPOINTS)
    points[0, right] = np.linspace([0.0, 0.0], [0.5, 0.25], 21)  # pixels 16-24 x, 16-20 y
    seen[0, right] = 1
    boxes = hand_boxes(points, seen, 32)
    assert boxes.shape == (2, 1, 32, 32)
    ys, xs = np.nonzero(boxes[0, 0].numpy())
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (14, 25, 15, 20)   # grown a quarter
    assert float(boxes[1].sum()) == 0                                    # no hand seen


def test_tcd_counts_pixels_that_break_from_their_neighbours():
    real = torch.zeros(5, 3, 8, 8)
    drawn = real.clone()
    drawn[2, :, :4] = 1.0           # half of one frame flickers white
    assert tcd(drawn, real) == pytest.approx((0.5 / 3), abs=1e-6)
    assert tcd(real, real) == 0.0


@pytest.mark.slow
def test_export_draws_a_motion_end_to_end(tmp_path, frames):
    import imageio.v3 as iio

    from engine.motion.project import Project
    from engine.workflows.export import ExportOptions, export_project
    from tests.signer_recording import signing_motion

    model = train_pgmm([], tmp_path / "me.pt", tiny_config(2), frames=frames).path
    project = Project(motion=signing_motion(12))
    options = ExportOptions(renderer="photoreal", photoreal_model=str(model), side_by_side=True)
    result = export_project(project, tmp_path / "me.mp4", options)
    video = iio.imread(result.path, plugin="pyav")
    assert video.shape == (12, 32, 64, 3)            # avatar | drawn, the model's size
    assert "photoreal" in result.notes[0]
    # A bad model leaves no file and names the model.
    (tmp_path / "not-a-model.pt").write_bytes(b"nothing")
    with pytest.raises(CheckpointError, match="not-a-model.pt"):
        export_project(project, tmp_path / "bad.mp4", ExportOptions(
            renderer="photoreal", photoreal_model=str(tmp_path / "not-a-model.pt")))
    assert not (tmp_path / "bad.mp4").exists()


def test_export_options_that_do_not_go_together_are_refused(tmp_path):
    from engine.motion.errors import UsageError
    from engine.motion.project import Project
    from engine.workflows.export import ExportOptions, export_project

    with pytest.raises(UsageError, match="--side-by-side"):
        ExportOptions(side_by_side=True)
    with pytest.raises(UsageError, match="go together"):
        ExportOptions(renderer="photoreal")
    options = ExportOptions(renderer="photoreal", photoreal_model=str(tmp_path / "me.pt"))
    with pytest.raises(UsageError, match="draws videos"):
        export_project(Project(motion=Motion.zeros(3)), tmp_path / "clip.npz", options)
    assert not (tmp_path / "clip.npz").exists()


def test_the_motion_is_placed_where_the_signer_stands():
    from engine.export.photoreal import driving_points
    from engine.learn.pgmm_data import LEFT_SHOULDER, RIGHT_SHOULDER

    framing = Framing((0, 0), 100, (0.1, -0.3), 0.5)
    points, seen = driving_points(Motion.zeros(2), framing)
    assert points.shape == (2, NUM_KEYPOINTS, 2) and seen.all()
    middle = (points[0, LEFT_SHOULDER] + points[0, RIGHT_SHOULDER]) / 2
    assert middle == pytest.approx([0.1, -0.3], abs=1e-5)
    assert np.linalg.norm(points[0, LEFT_SHOULDER] - points[0, RIGHT_SHOULDER]) == pytest.approx(0.5)
    assert points[0, LEFT_SHOULDER, 0] > points[0, RIGHT_SHOULDER, 0]  # the signer's left: image right
    assert points[0, 0, 1] < middle[1]                                 # the nose above (y down)


def _hanging_and_raised(hanging: int, raised: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (F, K, 2) of a signer 100 px across the shoulders whose arms (80 px upper,
    70 px fore) hang 12 degrees out for ``hanging`` frames and then point at the camera,
    foreshortened to a third, for ``raised`` frames; and all seen."""
    from engine.learn.pgmm_data import ARMS, BODY_POINTS

    frames = hanging + raised
    pixels = np.zeros((frames, NUM_KEYPOINTS, 2))
    seen = np.ones((frames, NUM_KEYPOINTS), bool)
    for (shoulder, elbow, wrist), out in zip(ARMS, (1, -1)):   # the left arm: image right
        s, e, w = (BODY_POINTS.index(i) for i in (shoulder, elbow, wrist))
        pixels[:, s] = [50 * out, 0]
        down = np.array([np.sin(np.radians(12)) * out, np.cos(np.radians(12))])
        shortened = np.array([0.3 * out, 0.2]) / np.hypot(0.3, 0.2) / 3
        direction = np.where(np.arange(frames)[:, None] < hanging, down, shortened)
        pixels[:, e] = pixels[:, s] + 80 * direction
        pixels[:, w] = pixels[:, e] + 70 * direction
    return pixels, seen


def test_the_arms_are_measured_where_they_hang():
    from engine.learn.pgmm_data import hanging_arm_lengths

    # most frames foreshortened: only the hanging ones give the lengths
    assert hanging_arm_lengths(*_hanging_and_raised(6, 40)) == pytest.approx((0.8, 0.7))
    # too few hanging frames to trust: not measured
    assert hanging_arm_lengths(*_hanging_and_raised(4, 40)) == (0.0, 0.0)


def test_the_arms_may_hang_in_any_of_the_videos():
    from engine.learn.train_pgmm import signers_framing

    first = Framing((10, 20), 100, (0.1, -0.3), 0.5)                  # arms never hang
    others = (Framing((0, 0), 90, (0, 0), 0.4, 0.8, 0.7), Framing((0, 0), 90, (0, 0), 0.4, 0.9, 0.6))
    pooled = signers_framing((first, *others))
    assert pooled.centre == (10, 20) and pooled.shoulder_width == 0.5   # the first's crop
    assert (pooled.upper_arm, pooled.forearm) == pytest.approx((0.85, 0.65))
    assert signers_framing((first,)) == first


def test_the_motion_reaches_as_far_as_the_signer():
    from engine.export.photoreal import driving_points
    from engine.learn.pgmm_data import BODY_POINTS, RIGHT_SHOULDER

    elbow, wrist, tip = BODY_POINTS.index(14), BODY_POINTS.index(16), NUM_KEYPOINTS - 21 + 12
    raised = Motion.zeros(1)
    body = raised.body_pose.copy()
    body[0, 16, 2] = 0.9                      # the right arm out to the side
    raised = raised.replace(body_pose=body)
    avatars = driving_points(raised, Framing((0, 0), 100, (0, -0.3), 0.5))[0][0]
    lengths = np.linalg.norm(avatars[[elbow, wrist]] - avatars[[RIGHT_SHOULDER, elbow]], axis=1)
    upper, fore = lengths / 0.5               # the avatar's, in shoulder widths

    longer = Framing((0, 0), 100, (0, -0.3), 0.5, upper_arm=1.2 * upper, forearm=0.9 * fore)
    signers = driving_points(raised, longer)[0][0]
    assert np.linalg.norm(signers[elbow] - signers[RIGHT_SHOULDER]) == pytest.approx(
        1.2 * upper * 0.5, rel=0.03)
    assert np.linalg.norm(signers[wrist] - signers[elbow]) == pytest.approx(
        0.9 * fore * 0.5, rel=0.03)
    # the hand travels with its wrist, its own shape unchanged
    np.testing.assert_allclose(signers[tip] - signers[wrist], avatars[tip] - avatars[wrist],
                               atol=1e-5)
    np.testing.assert_allclose(signers[:BODY_POINTS.index(11)], avatars[:BODY_POINTS.index(11)],
                               atol=1e-6)           # the face where it was


def test_the_command_line_trains_on_a_video_and_refuses_without_one(tmp_path, recording,
                                                                   capsys):
    from engine.cli import main

    out = tmp_path / "me.pt"
    assert main(["train", "pgmm", "--out", str(out)]) == 2
    assert "give --video" in capsys.readouterr().err
    assert main(["train", "pgmm", "--video", str(tmp_path / "none.mp4"), "--out", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    settings = ["model.size=32", "model.channels=8", "model.max_channels=16", "model.scales=2",
                "model.attention_max_size=8", "train.batch_size=2"]
    args = ["train", "pgmm", "--video", str(recording), "--out", str(out), "--steps", "3"]
    assert main(args + [x for s in settings for x in ("--set", s)]) == 0
    assert load_pgmm(out).config.size == 32
    # the recording sways its arms and never lets them hang: the user is told
    assert "arms not measured" in capsys.readouterr().out
