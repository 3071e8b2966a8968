"""signstudio-cli: the engine works without the GUI, and errors are one clear line."""
import numpy as np
import pytest

from engine.cli import main
from engine.motion import load_project


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_SMPLX_DIR", raising=False)


@pytest.mark.gl
def test_demo_renders_pngs_and_a_playable_project(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--width", "96", "--height", "96"]) == 0
    import imageio.v3 as iio
    fist = iio.imread(tmp_path / "right_fist.png")
    assert fist.shape == (96, 96, 3) and (fist < 250).any()
    project = load_project(tmp_path / "reference_poses.signstudio")
    assert len(project.keyframes) == 6
    # Each keyframe pins the motion's own pose at its frame.
    for key in project.keyframes:
        assert project.motion.frame(key.frame).equals(key.pose)
    assert main(["render", str(tmp_path / "reference_poses.signstudio"), "--frame", "9999",
                 "-o", str(tmp_path / "x.png")]) == 2
    assert "--frame: expected 0..194" in capsys.readouterr().err


def test_bad_project_gives_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.signstudio"
    bad.write_text("hello")
    assert main(["check-project", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "not a zip archive" in err and "Traceback" not in err


def test_config_sets_the_smplx_folder_used_by_load_body_model(tmp_path, capsys):
    from engine.body import SmplxModelNotFound, load_body_model
    assert main(["config", "set", "smplx_dir", str(tmp_path / "models")]) == 0
    with pytest.raises(SmplxModelNotFound) as error:
        load_body_model("smplx")
    assert str(tmp_path / "models") in str(error.value)  # the saved folder was used
    assert main(["config", "set", "colour", "red"]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err


def test_damaged_settings_file_is_reported_not_overwritten(tmp_path, capsys):
    from engine.settings import settings_path
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    assert main(["config", "set", "smplx_dir", "/x"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert path.read_text() == "{oops"


def test_info_runs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "13718 vertices" in out and "SMPL-X: unavailable" in out
