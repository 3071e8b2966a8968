"""The SignAvatar CVAE: training, curriculum, seeded sampling, encoders and checkpoints."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.jobs import Cancelled, CancelToken
from engine.learn.checkpoint import CheckpointError
from engine.learn.config import TrainConfig
from engine.learn.cvae import CvaeConfig, curriculum_mask_ratio, load_cvae, sample_cvae
from engine.learn.dataset import load_clips
from engine.learn.encoders import ClipEncoder, GlossEncoder
from engine.learn.eval_generation import cvae_generator
from engine.learn.features import FEATURE_DIM, apply_features
from engine.learn.train_cvae import CvaeTrainConfig, train_cvae
from tests.conftest import tiny_lexicon
from tests.engine.test_encoders import make_tiny_clip

TINY = CvaeTrainConfig(
    model=CvaeConfig(cond_dim=256, d_model=32, layers=1, heads=2, ff=64, latent=8, dropout=0.0),
    train=TrainConfig(steps=40, lr=3e-3, batch_size=8, checkpoint_every=1000),
    data_licence="synthetic test data")


def tiny(**train) -> CvaeTrainConfig:
    """TINY with other loop settings (``TrainConfig`` fields)."""
    return replace(TINY, train=replace(TINY.train, **train))


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    with tiny_lexicon(tmp_path_factory.mktemp("lex") / "lex.sqlite") as store:
        return load_clips(store)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, records):
    threads = torch.get_num_threads()  # restored: later modules compare threads' results
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("cvae") / "cvae.pt"
    yield path, train_cvae(records, path, TINY)
    torch.set_num_threads(threads)


def test_curriculum_follows_seed_000s_schedule():
    # g(ep) = min(0.1 * floor(ep / 500), 0.6) over ep in [0, 5000], mapped onto the steps.
    assert [curriculum_mask_ratio(s, 5000) for s in (0, 499, 500, 1999, 2000, 3000, 4999)] == \
        pytest.approx([0.0, 0.0, 0.1, 0.3, 0.4, 0.6, 0.6])
    assert curriculum_mask_ratio(100, 1000) == pytest.approx(0.1)
    assert curriculum_mask_ratio(99, 1000) == 0.0


def test_tiny_cvae_loss_falls_and_the_manifest_names_its_encoder(trained):
    path, result = trained
    assert result.steps == 40
    assert np.mean(result.losses[-8:]) < 0.7 * np.mean(result.losses[:8])
    model = load_cvae(path)  # gloss-conditioned: rebuilds GlossEncoder from the manifest
    manifest = torch.load(path, weights_only=True)["manifest"]
    assert '"type": "gloss"' in manifest and GlossEncoder().identity in manifest
    assert model.config.cond_dim == GlossEncoder().dim


def test_sampling_is_seeded_sized_and_follows_the_condition(trained, records):
    model = load_cvae(trained[0])
    labels = ["ase:FIST", "ase:FLAT"]
    first = sample_cvae(model, labels, 17, num_candidates=3, seed=7)
    assert first.shape == (2, 3, 17, FEATURE_DIM) and first.dtype == np.float32
    assert np.array_equal(first, sample_cvae(model, labels, 17, num_candidates=3, seed=7))
    assert not np.allclose(first, sample_cvae(model, labels, 17, num_candidates=3, seed=8))
    # Same seed (same z) for two labels: the condition alone changes the sign.
    swapped = sample_cvae(model, labels[::-1], 17, num_candidates=3, seed=7)
    assert np.abs(first[0] - swapped[0]).mean() > 1e-3
    # Candidates of one call differ (different z).
    assert np.abs(first[0, 0] - first[0, 1]).mean() > 1e-4
    # Each joint's 6D is orthonormal, so the features drive an avatar directly.
    pairs = first.reshape(-1, 2, 3)
    np.testing.assert_allclose(np.linalg.norm(pairs, axis=-1), 1.0, atol=1e-5)
    clip = records[0]
    generated = sample_cvae(model, [clip.label], clip.num_frames, 1, seed=0)[0, 0]
    assert np.isfinite(apply_features(clip.motion, generated).full_pose()).all()
    generated = cvae_generator(model)("gsg:FIST", 9, 2, 0)
    assert len(generated) == 2 and generated[0].shape == (9, FEATURE_DIM)
    with pytest.raises(ValueError, match="labels"):
        sample_cvae(model, "ase:FIST", 5)


def test_clip_conditioned_cvae_trains_and_refuses_another_encoder(tmp_path, records):
    clip = ClipEncoder.from_path(make_tiny_clip(tmp_path / "clip_a", seed=0))
    path = tmp_path / "cvae_clip.pt"
    train_cvae(records, path, tiny(steps=6), encoder=clip)
    model = load_cvae(path, clip)
    assert model.config.cond_dim == clip.dim == 32
    assert sample_cvae(model, ["ase:FIST"], 5, 2, seed=0).shape == (1, 2, 5, FEATURE_DIM)
    manifest = torch.load(path, weights_only=True)["manifest"]
    assert clip.weights_sha256 in manifest

    with pytest.raises(CheckpointError, match="cvae_clip.pt.*pass that encoder"):
        load_cvae(path)  # no encoder: the CLIP weights are the user's, not in the checkpoint
    other = ClipEncoder.from_path(make_tiny_clip(tmp_path / "clip_b", seed=1))
    with pytest.raises(CheckpointError, match="cvae_clip.pt.*CLIP weights sha256"):
        load_cvae(path, other)
    with pytest.raises(CheckpointError, match="cvae_clip.pt.*CLIP weights sha256"):
        load_cvae(path, GlossEncoder(dim=32))


def test_gloss_model_refuses_a_different_gloss_encoder_and_tampering(trained, tmp_path):
    path, _ = trained
    with pytest.raises(CheckpointError, match="embedding spaces differ"):
        load_cvae(path, GlossEncoder(dim=256, ngram_range=(1, 2)))
    payload = torch.load(path, weights_only=True)
    name = next(n for n in payload["state_dict"] if n.endswith("weight"))
    payload["state_dict"][name][0] += 1.0
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*modified or damaged"):
        load_cvae(tmp_path / "tampered.pt")


def test_cancel_then_resume_matches_an_uninterrupted_run(tmp_path, records):
    config = tiny(steps=20, checkpoint_every=10)
    straight = train_cvae(records, tmp_path / "straight.pt", config)
    token = CancelToken()

    def cancel_at_ten(done, total, message):
        if done == 10:
            token.cancel()

    with pytest.raises(Cancelled):
        train_cvae(records, tmp_path / "resumed.pt", config, progress=cancel_at_ten, cancel=token)
    resumed = train_cvae(records, tmp_path / "resumed.pt", config, resume=True)
    assert resumed.losses == straight.losses
    a, b = load_cvae(tmp_path / "straight.pt"), load_cvae(tmp_path / "resumed.pt")
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
