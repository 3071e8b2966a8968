"""The train and evaluate workflows: every trainer through one function, held-out
languages with one meaning, and the evaluation's report."""
import json

import pytest

from engine.jobs import Cancelled, CancelToken
from engine.learn.checkpoint import load_checkpoint
from engine.learn.config import SplitConfig
from engine.learn.dataset import data_version, load_clips, split_records
from engine.motion.errors import UsageError
from engine.workflows.train import (
    FROM_RENDERS, FROM_VIDEOS, TRAINERS, EvalOptions, TrainOptions, evaluate_models, train_model,
)
from tests.conftest import tiny_lexicon

LANGUAGES = ("ase", "gsg", "fsl", "bfi")

#: Small enough to train in a second or two each.
TINY = {
    "flow": ("model.width=32", "model.layers=1", "model.heads=2", "train.batch_size=4",
             "validation_fraction=0", "position_weight=0"),
    "cvae": ("model.d_model=32", "model.layers=1", "model.ff=64", "model.latent=8",
             "train.batch_size=4"),
    "recognizer": ("model.width=32", "model.embed_dim=16", "train.batch_size=4",
                   "min_languages=2"),
    "segmenter": ("model.width=16", "model.blocks=2", "train.batch_size=2", "window=32",
                  "pool_sequences=4", "validation_sequences=2"),
}


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory):
    path = tmp_path_factory.mktemp("lex") / "lexicon.sqlite"
    tiny_lexicon(path, languages=LANGUAGES).close()
    return path


@pytest.mark.parametrize("model", sorted(set(TRAINERS) - set(FROM_VIDEOS) - set(FROM_RENDERS)))
def test_every_trainer_holds_out_the_same_clips_for_held_out_languages(model, lexicon, tmp_path):
    """A held-out language is never trained on, and every trainer trains on exactly the
    same clips for the same split: their manifests record the same data version."""
    out = tmp_path / f"{model}.pt"
    reports = []
    result = train_model(TrainOptions(model=model, out=out, lexicon=lexicon, steps=2, seed=1,
                                      held_out_languages=("bfi",), settings=TINY[model]),
                         progress=lambda done, total, message="": reports.append(done))
    assert result.path == out and result.steps == 2 and reports
    manifest = load_checkpoint(out).manifest
    with tiny_lexicon(tmp_path / "again.sqlite", languages=LANGUAGES) as store:
        records = load_clips(store)
    split = SplitConfig(held_out_languages=("bfi",))
    train, held = split_records(records, split)
    assert not any(r.language == "bfi" for r in train) and held
    assert manifest["data_version"] == data_version(train)
    assert manifest["training"]["split"] == {"held_out_fraction": 0.15,
                                             "held_out_languages": ["bfi"]}
    assert manifest["training"]["train"]["steps"] == 2 and manifest["seed"] == 1
    if model == "flow":
        assert "bfi" not in manifest["config"]["model"]["languages"]


def test_train_refuses_a_bad_request_before_any_work(lexicon, tmp_path):
    with pytest.raises(FileNotFoundError, match="no lexicon database"):
        train_model(TrainOptions(model="cvae", out=tmp_path / "x.pt",
                                 lexicon=tmp_path / "none.sqlite"))
    with pytest.raises(UsageError, match="model: expected one of cvae, flow"):
        TrainOptions(model="gan", out=tmp_path / "x.pt")
    with pytest.raises(UsageError, match="only the cvae"):
        TrainOptions(model="flow", out=tmp_path / "x.pt", clip_weights=tmp_path / "w.pt")
    with pytest.raises(UsageError, match="train: steps: expected a whole number >= 1"):
        train_model(TrainOptions(model="cvae", out=tmp_path / "x.pt", lexicon=lexicon, steps=0))
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.slow
def test_evaluate_models_reports_each_part_and_writes_the_json(lexicon, tmp_path):
    """The shipped flow model on a held-out clip of the tiny lexicon: the report, each
    table as it is ready, and the JSON file."""
    tables = []
    options = EvalOptions(lexicon=lexicon, parts=("kf2p",), max_clips=1,
                          json_path=tmp_path / "r.json")
    result = evaluate_models(options, on_table=lambda title, text: tables.append(title))
    kf2p = result.report["kf2p_clips"]
    assert kf2p["clips"] == 1 and set(kf2p["median"]) == {"flow", "flow+label", "slerp", "smooth"}
    assert tables == ["KF2P on held-out clips"] == [title for title, _ in result.tables]
    assert json.loads((tmp_path / "r.json").read_text())["kf2p_clips"]["median"] == kf2p["median"]
    with pytest.raises(UsageError, match="parts: expected some of kf2p, generation, segmenter"):
        EvalOptions(parts=("speed",))
    with pytest.raises(FileNotFoundError, match="no lexicon database"):
        evaluate_models(EvalOptions(lexicon=tmp_path / "none.sqlite"))
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        evaluate_models(options, cancel=cancel)


def test_a_model_that_learns_from_videos_refuses_lexicon_options(tmp_path):
    """pgmm learns from the user's videos (tests/engine/test_pgmm.py trains it)."""
    video = tmp_path / "me.mp4"
    video.write_bytes(b"")
    with pytest.raises(UsageError, match="held-out-langs"):
        TrainOptions(model="pgmm", out=tmp_path / "m.pt", videos=(video,),
                     held_out_languages=("bfi",))
    with pytest.raises(UsageError, match="only pgmm learns from videos"):
        TrainOptions(model="flow", out=tmp_path / "m.pt", videos=(video,))
