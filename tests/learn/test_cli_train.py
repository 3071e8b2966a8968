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


@pytest.mark.slow
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


def test_train_set_overrides_a_config_field_and_refuses_unknown_or_mistyped(lexicon, tmp_path,
                                                                            capsys):
    out = tmp_path / "flow.pt"
    assert main(["train", "flow", "--db", str(lexicon), "--out", str(out), "--steps", "2",
                 "--set", "sampling.mean_first=true", "--set", "sampling.temperature=0",
                 "--set", "train.lr=0.0005", "--held-out-langs", "svk"]) == 0
    manifest = load_checkpoint(out, kind="flow-kf2p").manifest
    training = manifest["training"]
    assert training["sampling"]["mean_first"] is True and training["train"]["lr"] == 0.0005
    assert training["train"]["steps"] == 2 and training["split"]["held_out_languages"] == ["svk"]
    assert manifest["config"]["sampling"]["mean_first"] is True
    assert manifest["config"]["sampling"]["temperature"] == 0.0
    assert "svk" not in manifest["config"]["model"]["languages"]
    capsys.readouterr()
    # A bad setting is one line naming it and what is expected, not a traceback.
    with pytest.raises(SystemExit, match=r"no field 'nonsense'; expected one of model\.\*, "
                                         r"train\.\*, split\.\*, sampling\.\*"):
        main(["train", "flow", "--db", str(lexicon), "--out", str(out), "--set", "nonsense=1"])
    with pytest.raises(SystemExit, match=r"sampling.temperature=warm: sampling.temperature "
                                         r"expects a number"):
        main(["train", "flow", "--db", str(lexicon), "--out", str(out),
              "--set", "sampling.temperature=warm"])
    with pytest.raises(SystemExit, match=r"correction_scale: expected a number in \[0, 1\]"):
        main(["train", "flow", "--db", str(lexicon), "--out", str(out),
              "--set", "sampling.correction_scale=2"])
    with pytest.raises(SystemExit, match="model.layers expects a whole number"):
        main(["train", "cvae", "--db", str(lexicon), "--out", str(out), "--set", "model.layers=x"])
    assert "Traceback" not in capsys.readouterr().err
