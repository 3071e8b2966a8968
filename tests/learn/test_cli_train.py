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
    tiny_lexicon(path, languages=("ase", "gsg", "bfi", "fsl", "ise", "jos",
                                  "lls", "mfs", "psr", "sgg", "ssp", "svk")).close()
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


def _refused(capsys, argv, status, *texts):
    """``main(argv)`` ends with ``status`` and one error line holding ``texts``."""
    capsys.readouterr()
    assert main(argv) == status
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("signstudio-cli: error: ")]
    assert len(lines) == 1 and all(text in lines[0] for text in texts), err
    assert "Traceback" not in err


def test_train_refuses_a_missing_lexicon_and_misplaced_options(tmp_path, capsys):
    _refused(capsys, ["train", "recognizer", "--db", str(tmp_path / "nothing.sqlite"),
                      "--out", "x.pt"], 1, "nothing.sqlite: no lexicon database")
    tiny_lexicon(tmp_path / "lex.sqlite").close()
    _refused(capsys, ["train", "segmenter", "--db", str(tmp_path / "lex.sqlite"), "--out", "x.pt",
                      "--clip-weights", "w.pt"], 2, "only the cvae")


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
    # A bad setting is bad use: one line naming it and what is expected, exit 2.
    train = ["train", "flow", "--db", str(lexicon), "--out", str(out)]
    _refused(capsys, train + ["--set", "nonsense=1"], 2,
             "no field 'nonsense'; expected one of model.*, train.*, split.*, sampling.*")
    _refused(capsys, train + ["--set", "sampling.temperature=warm"], 2,
             "sampling.temperature=warm: sampling.temperature expects a number")
    _refused(capsys, train + ["--set", "sampling.correction_scale=2"], 2,
             "correction_scale: expected a number in [0, 1]")
    _refused(capsys, ["train", "cvae", "--db", str(lexicon), "--out", str(out),
                      "--set", "model.layers=x"], 2, "model.layers expects a whole number")

