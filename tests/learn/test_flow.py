"""The sparse-keyframe flow model: training, sampling through regenerate, checkpoints,
the default backend and text-to-pose."""
import shutil

import numpy as np
import pytest
import torch

from engine.generate import kf2p
from engine.generate.flow_backend import FlowKF2P, text_to_pose
from engine.generate.kf2p import default_backend, regenerate
from engine.learn.checkpoint import CheckpointError, build_manifest, save_checkpoint
from engine.learn.dataset import load_clips
from engine.learn.features import FEATURE_DIM, NUM_SIGN_JOINTS
from engine.learn.flow import spline_inbetween
from engine.learn.train_flow import FlowTrainConfig, train_flow
from engine.motion import Keyframe
from engine.motion.errors import MotionError
from engine.motion.motion import CHANNEL_FIELDS, Channel, Motion
from tests.conftest import tiny_lexicon

TINY = FlowTrainConfig(steps=60, batch_size=8, lr=3e-3, warmup=5, width=32, layers=1, heads=2,
                       max_frames=24, held_out_fraction=0.2, checkpoint_every=1000, seed=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(checkpoint path, TrainResult, a real clip Motion) from one tiny training run."""
    folder = tmp_path_factory.mktemp("flow")
    with tiny_lexicon(folder / "lex.sqlite") as store:
        result = train_flow(store, folder / "flow.pt", TINY)
        motion = load_clips(store)[0].motion
    return folder / "flow.pt", result, motion


def test_tiny_model_trains_and_its_loss_falls(trained):
    path, result, _ = trained
    assert path.is_file() and result.steps == TINY.steps
    first, last = np.mean(result.losses[:15]), np.mean(result.losses[-15:])
    assert last < 0.8 * first, (first, last)
    model = FlowKF2P.from_checkpoint(path)
    assert model.manifest["kind"] == "flow-kf2p"
    assert model.manifest["data_licence"]
    assert model.manifest["metrics"]["validation_loss"] > 0
    assert FlowKF2P.from_checkpoint(path) is model  # loaded once


def _long_motion(clip: Motion) -> Motion:
    """The clip, then the clip played backwards: a longer motion, continuous at the join."""
    return clip.replace(**{k: np.concatenate([v, v[::-1]]) for k, v in clip.frame_arrays().items()})


def test_sampling_honours_keyframes_and_leaves_other_frames_bit_identical(trained):
    path, _, clip = trained
    motion = _long_motion(clip)
    start, stop = 4, motion.num_frames - 3
    other = motion.frame(2)  # a pose from elsewhere, so the keys really constrain
    keys = [Keyframe(start + 3, other, frozenset({Channel.RIGHT_HAND})),
            Keyframe(start + 8, motion.frame(start + 1), frozenset(Channel)),
            Keyframe(1, other)]  # outside the range: ignored
    backend = FlowKF2P.from_checkpoint(path)
    candidates = regenerate(motion, keys, (start, stop), backend=backend, num_candidates=3, seed=5)
    assert len(candidates) == 3
    for candidate in candidates:
        for key in keys[:2]:
            for channel in key.channels:
                for name in CHANNEL_FIELDS[channel]:
                    assert np.array_equal(getattr(candidate, name)[key.frame], getattr(key.pose, name)[0])
        for name, array in motion.frame_arrays().items():
            values = getattr(candidate, name)
            assert np.array_equal(values[:start], array[:start])
            assert np.array_equal(values[stop:], array[stop:])
        # The range really was regenerated (the right hand had to reach ``other``).
        assert not np.array_equal(candidate.right_hand_pose[start:stop], motion.right_hand_pose[start:stop])
        assert np.isfinite(candidate.body_pose).all()


def test_seeds_choose_candidates_reproducibly(trained):
    path, _, clip = trained
    motion = _long_motion(clip)
    backend = FlowKF2P.from_checkpoint(path)
    keys = [Keyframe.from_motion(motion, 10)]
    span = (3, motion.num_frames - 3)
    a = regenerate(motion, keys, span, backend=backend, num_candidates=2, seed=1)
    b = regenerate(motion, keys, span, backend=backend, num_candidates=2, seed=1)
    c = regenerate(motion, keys, span, backend=backend, num_candidates=2, seed=2)
    assert all(x.equals(y) for x, y in zip(a, b))
    assert not np.array_equal(a[0].right_hand_pose, c[0].right_hand_pose)
    assert not np.array_equal(a[0].right_hand_pose, a[1].right_hand_pose)


def test_tampered_or_foreign_checkpoints_are_refused_naming_the_file(trained, tmp_path):
    path, _, _ = trained
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name] = payload["state_dict"][name] + 0.5
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*modified or damaged"):
        FlowKF2P.from_checkpoint(tmp_path / "tampered.pt")

    other = build_manifest("cvae", {"model": {}}, data_version="d", data_licence="synthetic")
    save_checkpoint(tmp_path / "cvae.pt", {"w": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="cvae.pt.*expected 'flow-kf2p'"):
        FlowKF2P.from_checkpoint(tmp_path / "cvae.pt")

    wrong = build_manifest("flow-kf2p", {"model": {"width": 32}}, data_version="d",
                           data_licence="synthetic")
    save_checkpoint(tmp_path / "wrong.pt", {"w": torch.zeros(2)}, wrong)
    with pytest.raises(CheckpointError, match="wrong.pt.*do not fit"):
        FlowKF2P.from_checkpoint(tmp_path / "wrong.pt")

    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="foreign.pt.*not a Sign Studio checkpoint"):
        FlowKF2P.from_checkpoint(tmp_path / "foreign.pt")


def test_default_backend_is_flow_only_when_the_checkpoint_is_shipped(trained, tmp_path, monkeypatch):
    path, _, clip = trained
    monkeypatch.setenv("SIGNSTUDIO_ASSETS_DIR", str(tmp_path))
    assert default_backend() == "smooth"
    with pytest.raises(MotionError, match="flow_kf2p.pt.*no such checkpoint"):
        regenerate(clip, [], (2, 6), backend="flow")
    (tmp_path / "models").mkdir()
    shutil.copy(path, tmp_path / "models" / "flow_kf2p.pt")
    assert default_backend() == "flow"
    result = regenerate(clip, [], (2, 6), backend=default_backend(), seed=0)[0]
    assert np.array_equal(result.body_pose[6:], clip.body_pose[6:])
    assert "flow" in kf2p.BACKENDS and "smooth" in kf2p.BACKENDS


def test_text_to_pose_is_seeded_and_well_formed(trained):
    path, _, _ = trained
    first = text_to_pose("ase:A", 20, num_candidates=2, seed=3, checkpoint=path)
    again = text_to_pose("ase:A", 20, num_candidates=2, seed=3, checkpoint=path)
    assert first.features.shape == (2, 20, FEATURE_DIM) and first.fps == 25.0
    assert np.array_equal(first.features, again.features)
    assert len(first.motions) == 2 and first.motions[0].num_frames == 20
    assert np.isfinite(first.features).all()
    assert not np.array_equal(first.features[0], first.features[1])
    unguided = text_to_pose("ase:A", 20, num_candidates=2, seed=3, guidance=1.0, checkpoint=path)
    assert not np.array_equal(first.features, unguided.features)
    with pytest.raises(MotionError, match="num_frames"):
        text_to_pose("ase:A", 1, checkpoint=path)


def test_spline_inbetween_passes_through_known_entries_and_holds_outside():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(12, FEATURE_DIM)).astype(np.float32)
    known = np.zeros((12, NUM_SIGN_JOINTS), bool)
    known[[2, 5, 9], :10] = True   # some joints: three anchors
    known[4, 10:20] = True         # some: one anchor
    out = spline_inbetween(values, known)
    np.testing.assert_allclose(out[[2, 5, 9], :60], values[[2, 5, 9], :60], atol=1e-6)
    np.testing.assert_allclose(out[:2, :60], np.repeat(values[2:3, :60], 2, 0), atol=1e-6)
    np.testing.assert_allclose(out[:, 60:120], np.repeat(values[4:5, 60:120], 12, 0), atol=1e-6)
    assert np.isnan(out[:, 120:]).all()


def test_evaluate_kf2p_scores_held_out_clips_and_refuses_a_dishonest_language_split(trained, tmp_path):
    import json

    from engine.generate.eval_kf2p import evaluate_kf2p, format_kf2p_table

    path, _, _ = trained
    with tiny_lexicon(tmp_path / "lex.sqlite") as store:
        backends = {"flow": FlowKF2P.from_checkpoint(path), "slerp": "slerp", "smooth": "smooth"}
        result = evaluate_kf2p(store, backends, split="clips", held_out_fraction=0.2)
        assert result["clips"] >= 1
        assert set(result["median"]) == {"flow", "flow+label", "slerp", "smooth"}
        for row in result["median"].values():
            assert row["keyframe_error"] < 1e-3 and row["right_hand"] >= 0
        json.dumps(result)  # JSON-able
        assert "smooth" in format_kf2p_table(result)
        with pytest.raises(ValueError, match="trained with languages \\['gsg'\\]"):
            evaluate_kf2p(store, backends, split="languages", held_out_languages=("gsg",))
