"""`signstudio-cli train` writes verified checkpoints, resumes, and refuses bad requests."""
import pytest

from engine.cli import main
from engine.learn.checkpoint import load_checkpoint
from engine.learn.training import resume_path
from tests.conftest import tiny_lexicon


@pytest.fixture
def lexicon(tmp_path):
    path = tmp_path / "lexicon.sqlite"
    # The recognizer's classes are glosses shared by >= 8 languages in the train split.
    tiny_lexicon(path, languages=("ase", "gsg", "bfi", "fsl", "ise", "jos", "lls", "mfs", "psr", "sgg", "ssp", "svk")).close()
    return path


@pytest.mark.parametrize("model,kind", [("recognizer", "recognizer"), ("segmenter", "segmenter"),
                                        ("cvae", "cvae")])
def test_train_writes_a_checkpoint_of_its_kind(model, kind, lexicon, tmp_path, capsys):
    out = tmp_path / f"{model}.pt"
    assert main(["train", model, "--db", str(lexicon), "--out", str(out), "--steps", "3",
                 "--seed", "7"]) == 0
    checkpoint = load_checkpoint(out, kind=kind)
    assert checkpoint.manifest["seed"] == 7 and checkpoint.manifest["step"] == 3
    assert not resume_path(out).exists()
    assert f"wrote {out} after 3 steps" in capsys.readouterr().out


def test_train_refuses_a_missing_lexicon_and_misplaced_options(tmp_path):
    with pytest.raises(SystemExit, match="nothing.sqlite: no lexicon database"):
        main(["train", "recognizer", "--db", str(tmp_path / "nothing.sqlite"), "--out", "x.pt"])
    tiny_lexicon(tmp_path / "lex.sqlite").close()
    with pytest.raises(SystemExit, match="only the cvae"):
        main(["train", "segmenter", "--db", str(tmp_path / "lex.sqlite"), "--out", "x.pt",
              "--clip-weights", "w.pt"])


def test_train_set_overrides_a_config_field_and_refuses_unknown_or_mistyped(lexicon, tmp_path):
    out = tmp_path / "flow.pt"
    assert main(["train", "flow", "--db", str(lexicon), "--out", str(out), "--steps", "2",
                 "--set", "sample_mean_first=true", "--set", "sample_temperature=0"]) == 0
    manifest = load_checkpoint(out, kind="flow-kf2p").manifest
    assert manifest["config"]["training"]["sample_mean_first"] is True
    assert manifest["config"]["model"]["mean_first"] is True
    assert manifest["config"]["model"]["temperature"] == 0.0
    with pytest.raises(SystemExit, match="NAME one of"):
        main(["train", "flow", "--db", str(lexicon), "--out", str(out), "--set", "nonsense=1"])
    with pytest.raises(SystemExit, match="expects a float"):
        main(["train", "flow", "--db", str(lexicon), "--out", str(out),
              "--set", "sample_temperature=warm"])
