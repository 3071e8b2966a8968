"""The shared learned-model plumbing: features, splits, checkpoints, the training loop."""
import numpy as np
import pytest
import torch

from engine.jobs import Cancelled, CancelToken
from engine.learn.checkpoint import (
    CheckpointError, build_manifest, load_checkpoint, load_into, save_checkpoint,
)
from engine.learn.config import TrainConfig
from engine.learn.dataset import data_version, load_clips, split_clips, split_languages
from engine.learn.features import (
    FEATURE_DIM, SIGN_JOINTS, apply_features, channel_feature_mask, motion_to_features,
)
from engine.learn.training import resume_path, train
from engine.motion.motion import Channel
from tests.conftest import random_motion, tiny_lexicon


def test_features_round_trip_the_modelled_joints_and_keep_the_rest(rng):
    motion = random_motion(rng, num_frames=7)
    features = motion_to_features(motion)
    assert features.shape == (7, FEATURE_DIM) and features.dtype == np.float32
    base = random_motion(rng, num_frames=7)
    rebuilt = apply_features(base, features)
    np.testing.assert_allclose(rebuilt.full_pose()[:, SIGN_JOINTS], motion.full_pose()[:, SIGN_JOINTS],
                               atol=1e-5)
    legs = [i for i in range(55) if i not in SIGN_JOINTS]
    assert np.array_equal(rebuilt.full_pose()[:, legs], base.full_pose()[:, legs])
    assert np.array_equal(rebuilt.transl, base.transl)


def test_channel_mask_selects_exactly_the_hand_joints():
    right = channel_feature_mask({Channel.RIGHT_HAND})
    assert right.sum() == 15 * 6
    assert not (right & channel_feature_mask({Channel.BODY, Channel.LEFT_HAND})).any()


def test_splits_hold_out_whole_clips_stably(tmp_path):
    with tiny_lexicon(tmp_path / "lex.sqlite", languages=("ase", "gsg", "bfi")) as store:
        records = load_clips(store)
    assert len(records) == 12
    train_a, held_a = split_clips(records, 0.3)
    train_b, held_b = split_clips(list(reversed(records)), 0.3)
    assert {r.entry_id for r in held_a} == {r.entry_id for r in held_b}
    assert not {r.entry_id for r in train_a} & {r.entry_id for r in held_a}
    _, held_lang = split_languages(records, ["gsg"])
    assert {r.language for r in held_lang} == {"gsg"}
    with pytest.raises(ValueError, match="xyz"):
        split_languages(records, ["xyz"])
    assert data_version(records) == data_version(list(reversed(records)))
    assert data_version(records) != data_version(records[1:])


def _manifest(step=0, losses=()):
    return build_manifest("test-model", {"width": 4}, data_version="d1",
                          data_licence="synthetic", step=step)


def test_checkpoint_round_trip_and_refusals(tmp_path):
    model = torch.nn.Linear(3, 4)
    path = save_checkpoint(tmp_path / "m.pt", model.state_dict(), _manifest())
    loaded = load_checkpoint(path, kind="test-model")
    fresh = load_into(torch.nn.Linear(3, 4), loaded)
    assert torch.equal(fresh.weight, model.weight)
    assert loaded.manifest["data_licence"] == "synthetic"

    with pytest.raises(CheckpointError, match="expected 'flow-kf2p'"):
        load_checkpoint(path, kind="flow-kf2p")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_into(torch.nn.Linear(3, 5), loaded)

    tampered = torch.load(path, weights_only=True)
    tampered["state_dict"]["weight"][0, 0] += 1.0
    torch.save(tampered, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*modified or damaged"):
        load_checkpoint(tmp_path / "tampered.pt")

    torch.save(model.state_dict(), tmp_path / "foreign.pt")  # a bare state dict
    with pytest.raises(CheckpointError, match="not a Sign Studio checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    torch.save({"format": "signstudio-checkpoint", "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="holds Python objects .* never loads") as error:
        load_checkpoint(tmp_path / "evil.pt")
    assert "weights_only" not in str(error.value)  # never torch's advice to load unsafely

    (tmp_path / "trunc.pt").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="trunc.pt"):
        load_checkpoint(tmp_path / "trunc.pt")
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.pt")


def _regression_problem():
    inputs = torch.linspace(-1, 1, 64)[:, None]
    targets = 3 * inputs - 1

    def step_loss(model, generator):
        batch = torch.randint(0, 64, (16,), generator=generator)
        return ((model(inputs[batch]) - targets[batch]) ** 2).mean()
    return step_loss


def test_training_loss_falls_and_resume_matches_an_uninterrupted_run(tmp_path):
    config = TrainConfig(steps=60, lr=0.05, warmup=5, checkpoint_every=20, seed=3)
    def dropout_net():  # dropout draws from torch's global RNG: resume must restore it
        return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 1))
    torch.manual_seed(0)
    straight = dropout_net()
    result = train(straight, _regression_problem(), _manifest, tmp_path / "a.pt", config)
    assert result.losses[-1] < 0.1 * result.losses[0]
    assert not resume_path(tmp_path / "a.pt").exists()

    torch.manual_seed(0)
    interrupted = dropout_net()
    cancel = CancelToken()

    def stop_at_30(done, total, message=""):
        if done >= 30:
            cancel.cancel()
    with pytest.raises(Cancelled):
        train(interrupted, _regression_problem(), _manifest, tmp_path / "b.pt", config,
              progress=stop_at_30, cancel=cancel)
    assert resume_path(tmp_path / "b.pt").exists() and not (tmp_path / "b.pt").exists()
    torch.manual_seed(99)  # the resume must not depend on the global RNG
    resumed_model = dropout_net()
    resumed = train(resumed_model, _regression_problem(), _manifest, tmp_path / "b.pt", config,
                    resume=True)
    assert resumed.losses == result.losses
    for resumed_weight, straight_weight in zip(resumed_model.parameters(), straight.parameters()):
        assert torch.equal(resumed_weight, straight_weight)


def test_a_missing_lexicon_path_is_an_error_not_a_new_empty_database(tmp_path):
    from engine.learn.dataset import load_records

    with pytest.raises(FileNotFoundError, match="typo.sqlite: no such lexicon file"):
        load_records(tmp_path / "typo.sqlite")
    assert not (tmp_path / "typo.sqlite").exists()
