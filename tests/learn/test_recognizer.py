"""The evaluation recognizer and the generation evaluation built on it."""
import numpy as np
import pytest
import torch

from engine.learn.checkpoint import CheckpointError, build_manifest, save_checkpoint
from engine.learn.config import SplitConfig, TrainConfig
from engine.learn.dataset import load_clips
from engine.learn.eval_generation import evaluate_generation, format_generation_table
from engine.learn.recognizer import RecognizerConfig, gloss_class, load_recognizer, vocabulary
from engine.learn.train_recognizer import RecognizerTrainConfig, augment, train_recognizer
from tests.conftest import tiny_lexicon

#: Every bfi clip held out, no other clip: bfi is a language the recognizer never saw.
BFI_ONLY = SplitConfig(held_out_fraction=0.0, held_out_languages=("bfi",))
TINY = RecognizerTrainConfig(
    model=RecognizerConfig(classes=(), width=32, embed_dim=16),
    train=TrainConfig(steps=60, lr=3e-3, batch_size=16, weight_decay=1e-2, checkpoint_every=1000),
    split=BFI_ONLY, min_languages=2, data_licence="synthetic test data")


@pytest.fixture(scope="module")
def lexicon_records(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lex")
    with tiny_lexicon(folder / "lex.sqlite", languages=("ase", "gsg", "bfi")) as store:
        return load_clips(store)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, lexicon_records):
    threads = torch.get_num_threads()  # restored: later modules compare threads' results
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("rec") / "recognizer.pt"
    result = train_recognizer(lexicon_records, path, TINY)
    yield path, result
    torch.set_num_threads(threads)


def test_recognizer_learns_the_four_hand_shapes_and_recognises_an_unseen_language(trained, lexicon_records):
    path, result = trained
    assert np.mean(result.losses[-10:]) < 0.6 * np.mean(result.losses[:10])
    recognizer = load_recognizer(path)
    assert len(recognizer.classes) == 4
    held = [r for r in lexicon_records if r.language == "bfi"]  # never trained on
    predicted = recognizer.predict([r.features for r in held])
    truth = [recognizer.class_index(r.label) for r in held]
    assert np.mean(predicted == np.array(truth)) >= 0.75
    metrics = recognizer.manifest["metrics"]
    assert metrics["train_accuracy"] >= 0.9 and metrics["held_out_count"] == 4
    assert recognizer.manifest["data_licence"] == "synthetic test data"
    features = recognizer.features([r.features for r in held])
    assert features.shape == (4, 16) and np.array_equal(features, recognizer.features(
        [r.features for r in held]))
    assert recognizer.class_index("xx:NOT-A-SHAPE") is None


def test_vocabulary_keeps_glosses_shared_across_languages(lexicon_records):
    assert vocabulary(lexicon_records, min_languages=3) == sorted(
        {gloss_class(r.gloss) for r in lexicon_records})
    with pytest.raises(ValueError, match="fewer than 2 glosses"):
        vocabulary(lexicon_records, min_languages=4)
    assert gloss_class("ä") == "Ä"


def test_augmentation_changes_speed_crops_and_adds_noise(lexicon_records):
    clip = torch.from_numpy(lexicon_records[0].features)
    generator = torch.Generator().manual_seed(0)
    lengths = {len(augment(clip, generator, 0.02)) for _ in range(20)}
    assert len(lengths) > 3 and min(lengths) >= 4 and max(lengths) <= round(len(clip) / 0.75) + 1
    again = augment(clip, torch.Generator().manual_seed(5), 0.02)
    assert torch.equal(again, augment(clip, torch.Generator().manual_seed(5), 0.02))


def test_tampered_or_foreign_recognizer_checkpoints_are_refused(trained, tmp_path):
    path, _ = trained
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name] = payload["state_dict"][name] + 0.5
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*modified or damaged"):
        load_recognizer(tmp_path / "tampered.pt")
    other = save_checkpoint(tmp_path / "other.pt", torch.nn.Linear(2, 2).state_dict(),
                            build_manifest("cvae", {}, data_version="d", data_licence="x"))
    with pytest.raises(CheckpointError, match="expected 'recognizer'"):
        load_recognizer(other)


def test_evaluate_generation_scores_copies_of_real_clips_above_noise(trained, lexicon_records):
    path, _ = trained
    by_label = {r.label: r.features for r in lexicon_records}

    def copy_real(label, num_frames, num_candidates, seed):
        return [by_label[label]] * num_candidates

    def noise(label, num_frames, num_candidates, seed):
        rng = np.random.default_rng(seed)
        return [rng.normal(size=(num_frames, 264)).astype(np.float32) for _ in range(num_candidates)]

    result = evaluate_generation(lexicon_records, {"copy": copy_real, "noise": noise}, path,
                                 split=BFI_ONLY, num_candidates=2, repeats=3)
    rows = result["rows"]
    assert rows["real"]["count"] == 4 and result["split"]["evaluated_classes"] == 4
    assert rows["copy"]["acc"] == rows["real"]["acc"]
    # Each copy appears twice, which shrinks the covariance a little: near 0, not 0.
    assert rows["copy"]["fid"] < 0.1 * rows["noise"]["fid"]
    once = evaluate_generation(lexicon_records, {"copy": copy_real}, path, split=BFI_ONLY,
                               num_candidates=1, repeats=1)
    assert once["rows"]["copy"]["fid"] == pytest.approx(0.0, abs=1e-6)
    assert rows["copy"]["multimodality_within_label"] == 0.0
    assert rows["noise"]["acc"] <= rows["copy"]["acc"]
    assert "copy" in format_generation_table(result)

    def wrong_shape(label, num_frames, num_candidates, seed):
        return [np.zeros((num_frames + 1, 264))] * num_candidates

    with pytest.raises(ValueError, match="generator 'bad'.*expected finite features"):
        evaluate_generation(lexicon_records, {"bad": wrong_shape}, path, split=BFI_ONLY,
                            num_candidates=1, repeats=1)
