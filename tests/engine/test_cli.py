"""signstudio-cli: the engine works without the GUI, and errors are one clear line."""
import json

import numpy as np
import pytest

from engine.cli import main
from engine.motion import load_project


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_SMPLX_DIR", raising=False)


def _quick_fit():
    """The real fitter with few iterations: real letters from the package's clips in
    a fraction of the time (the demo's pictures do not depend on the fit's polish)."""
    import functools

    from engine.data.fit import fit_keypoints
    return functools.partial(fit_keypoints, iterations=20)


@pytest.fixture
def one_torch_thread():
    """In-process fitting on one thread: with two, other jobs on the 2 cores slow it
    3-10x (the lexicon build's worker processes use one thread each for the same reason)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _changed_pixels(a, b):
    """(H, W) bool: where two RGB pictures differ visibly."""
    return np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 30


@pytest.mark.gl
@pytest.mark.slow
def test_demo_renders_pngs_and_a_playable_project(tmp_path, capsys, monkeypatch,
                                                  one_torch_thread):
    import imageio.v3 as iio

    import engine.data.lexicon_build as lexicon_build
    from engine.export.motion_files import read_motion_file
    monkeypatch.setattr(lexicon_build, "_default_fit", _quick_fit)
    options = ["--out", str(tmp_path), "--width", "128", "--height", "96", "--workers", "1"]
    assert main(["demo"] + options) == 0
    printed = capsys.readouterr().out
    assert "4 added" in printed and "demo done in" in printed

    # Each hand-shape picture shows that hand shape, in the middle of the picture: the
    # fist and the flat hand differ in many pixels (the old T-pose framing: none).
    fist, flat = (iio.imread(tmp_path / f"right_{shape}.png") for shape in ("fist", "flat"))
    assert fist.shape == (96, 128, 3)
    changed = _changed_pixels(fist, flat)
    assert changed.mean() > 0.01
    rows, cols = np.nonzero(changed)
    assert 32 <= rows.mean() <= 64 and 43 <= cols.mean() <= 85
    assert (fist[32:64, 43:85].min(axis=-1) < 250).mean() > 0.3
    for name in ("rest_t_pose", "arms_down"):  # the whole avatar, feet included
        body = iio.imread(tmp_path / f"{name}.png").min(axis=-1) < 250
        assert body[:5].sum() == 0 and body[-5:].sum() == 0 and body.mean() > 0.03

    # "hello" fingerspelled from real ASL clips: one segment per letter.
    project = load_project(tmp_path / "hello.signstudio")
    assert [s.gloss for s in project.segments] == list("HELLO")
    assert {s.language for s in project.segments} == {"ase"}
    assert {s.kind.value for s in project.segments} == {"fingerspelled"}
    frames = project.motion.num_frames
    video = iio.imread(tmp_path / "hello.mp4")
    assert video.shape == (frames, 96, 128, 3)
    assert read_motion_file(tmp_path / "hello.npz").num_frames == frames
    sheet = iio.imread(tmp_path / "hello_letters.png")
    assert sheet.shape == (96, 5 * 96, 3)

    # A second run reuses the lexicon: nothing is fitted again for the same letters.
    def no_fitting(sequence, cancel=None):
        raise AssertionError("the demo fitted a clip that the lexicon already holds")
    monkeypatch.setattr(lexicon_build, "_default_fit", lambda: no_fitting)
    assert main(["demo", "--text", "Oh!"] + options) == 0
    assert "0 added, 2 already present" in capsys.readouterr().out
    assert [s.gloss for s in load_project(tmp_path / "oh.signstudio").segments] == ["O", "H"]
    assert main(["render", str(tmp_path / "oh.signstudio"), "--frame", "9999",
                 "-o", str(tmp_path / "x.png")]) == 2
    assert "--frame: expected 0.." in capsys.readouterr().err


def test_demo_fits_the_whole_alphabet_only_when_spelling_needs_it(tmp_path, monkeypatch):
    """Letters the text shows are fitted; a fallback (é spelled as e) needs the rest."""
    from types import SimpleNamespace

    import engine.data.lexicon_build as lexicon_build
    from engine.data.lexicon import LexiconStore
    from engine.motion import Motion
    from engine.workflows.demo import fit_demo_letters

    def still_fit(sequence, cancel=None):  # the letter selection is under test, not fitting
        return SimpleNamespace(motion=Motion.zeros(sequence.num_frames, fps=sequence.fps),
                               quality={})
    monkeypatch.setattr(lexicon_build, "_default_fit", lambda: still_fit)
    with LexiconStore(tmp_path / "hello.sqlite") as store:
        fit_demo_letters(store, "Hello", "ase", workers=1)
        assert sorted(s.gloss for s in store.list("ase")) == ["E", "H", "L", "O"]
    with LexiconStore(tmp_path / "cafe.sqlite") as store:
        fit_demo_letters(store, "café", "ase", workers=1)
        assert len(store.list("ase")) == 26
    with LexiconStore(tmp_path / "none.sqlite") as store:
        with pytest.raises(ValueError, match="unknown sign language"):
            fit_demo_letters(store, "hello", "xyz", workers=1)


def test_bad_project_gives_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.signstudio"
    bad.write_text("hello")
    assert main(["check-project", str(bad)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "not a zip archive" in err and "Traceback" not in err


def test_exit_status_is_2_for_bad_use_and_1_for_a_failure(tmp_path, capsys):
    """One convention for every command: the same one-line error, and a status that
    tells a script whether the command line was wrong (2) or the work failed (1)."""
    import subprocess
    import sys

    for argv in (["render", "p.signstudio", "--frame", "x", "-o", "o.png"],
                 ["sign", "flathand", "-o", "x.npz", "--avatar", "nobody"]):
        with pytest.raises(SystemExit) as exit_status:  # argparse's own checks
            main(argv)
        assert exit_status.value.code == 2
        assert "signstudio-cli: error: " in capsys.readouterr().err
    for argv in (["config", "set", "colour", "red"], ["export", "p.signstudio"],
                 ["sign", "flathand", "-o", str(tmp_path / "x.fbx")]):
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith("signstudio-cli: error: ")
    bad = tmp_path / "bad.signstudio"
    bad.write_text("not a project")
    failures = (["check-project", str(bad)], ["export", str(bad), "-o", str(tmp_path / "o.npz")],
                ["sign", "flathand nosuchsymbol", "-o", str(tmp_path / "x.npz")])
    for argv in failures:
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("signstudio-cli: error: ") and err.count("\n") == 1, err
    # The real process exits with that status, not only main()'s return value.
    run = subprocess.run([sys.executable, "-m", "engine.cli", "check-project", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and run.stderr.startswith("signstudio-cli: error: ")


def test_config_sets_the_smplx_folder_used_by_load_body_model(tmp_path, capsys):
    from engine.body import SmplxModelNotFound, load_body_model
    assert main(["config", "set", "smplx_dir", str(tmp_path / "models")]) == 0
    with pytest.raises(SmplxModelNotFound) as error:
        load_body_model("smplx")
    assert str(tmp_path / "models") in str(error.value)  # the saved folder was used
    assert main(["config", "set", "colour", "red"]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err


def test_damaged_settings_file_is_reported_and_repaired_not_lost(tmp_path, capsys):
    from engine.settings import settings_path
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    # Every command still runs, on the defaults, and says which file is damaged.
    assert main(["info"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}: settings file is not valid JSON" in err
    assert "config reset" in err and "Traceback" not in err
    # `config set` repairs it and keeps the damaged file aside.
    assert main(["config", "set", "smplx_dir", "/x"]) == 0
    out = capsys.readouterr().out
    backups = list(path.parent.glob("settings.damaged-*.json"))
    assert len(backups) == 1 and backups[0].read_text() == "{oops"
    assert f"kept the damaged settings file as {backups[0]}" in out
    assert json.loads(path.read_text())["smplx_dir"] == "/x"
    assert main(["config", "show"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_config_reset_repairs_a_file_with_a_bad_field(tmp_path, capsys):
    from engine.settings import settings_path
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"smplx_dir": 7, "default_language": "gsg"}')
    assert main(["config", "show"]) == 0
    captured = capsys.readouterr()
    assert "settings field(s) 'smplx_dir' (expected a string, got 7)" in captured.err
    assert "default_language = gsg" in captured.out  # the good field is kept
    assert main(["config", "reset"]) == 0
    assert json.loads(path.read_text())["default_language"] == "ase"
    assert len(list(path.parent.glob("settings.damaged-*.json"))) == 1


def test_info_runs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "13718 vertices" in out and "SMPL-X: unavailable" in out


@pytest.mark.slow
@pytest.mark.gl
def test_export_project_to_video_and_motion_files(tmp_path):
    import imageio.v3 as iio

    from engine.body.reference_poses import reference_poses
    from engine.export.motion_files import read_motion_file
    from engine.motion import Project, Segment, save_project
    from engine.motion.interpolate import chain

    motion = chain(list(reference_poses().values())[:3], hold_frames=2, transition_frames=2)
    project_path = tmp_path / "p.signstudio"
    save_project(Project(motion=motion, segments=(Segment("A", "ase", 0, 4),)), project_path)
    video = tmp_path / "p.mp4"
    assert main(["export", str(project_path), "-o", str(video), "--width", "160",
                 "--height", "120"]) == 0
    frames = iio.imread(video, plugin="pyav")
    assert frames.shape == (motion.num_frames, 120, 160, 3)
    npz = tmp_path / "p.npz"
    assert main(["export", str(project_path), "-o", str(npz)]) == 0
    assert read_motion_file(npz).equals(motion, atol=1e-6)
    bvh = tmp_path / "p.bvh"
    assert main(["export", str(npz), "-o", str(bvh)]) == 0  # motion file -> motion file
    assert read_motion_file(bvh).num_frames == motion.num_frames


@pytest.mark.slow
def test_pose_files_import_through_fitting(tmp_path):
    from engine.data.fingerspelling import load_index
    from engine.export.motion_files import read_motion_file

    index = load_index()
    clip = index.path_of(index.find("ase", "B"))
    out = tmp_path / "b.npz"
    assert main(["export", str(clip), "-o", str(out)]) == 0
    motion = read_motion_file(out)
    assert motion.num_frames > 10 and np.abs(motion.right_hand_pose).max() > 0.1


# ------------------------------------------------------------ find-sign, CLIP route
def _letter_lexicon(path):
    from engine.data.lexicon import LexiconEntry, LexiconStore
    from tests.conftest import letter_clip

    with LexiconStore(path) as store:
        for letter, shape in {"A": "fist", "B": "flat", "V": "asl_v"}.items():
            store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                                   motion=letter_clip(shape), source_kind="manual",
                                   source="-", source_hash=letter, licence="test",
                                   kind="letter"))
    return path


def _own_thumbnail(db, gloss, out):
    """The PNG the CLIP route's index holds for ``gloss`` (what its renderer draws)."""
    import imageio.v3 as iio

    from engine.data.lexicon import LexiconStore
    from engine.export.thumbnails import HandThumbnails
    from engine.generate.clip_match import representative_frames

    with LexiconStore(db) as store, HandThumbnails() as thumbnails:
        motion = store.get(store.find_gloss("ase", gloss)[0].id).motion
        iio.imwrite(out, thumbnails(motion, representative_frames(motion))[0])
    return out


@pytest.mark.gl
@pytest.mark.slow
def test_find_sign_clip_route_with_configured_weights(tmp_path, capsys, monkeypatch):
    from tests.engine.test_encoders import make_tiny_clip

    monkeypatch.delenv("SIGNSTUDIO_CLIP_WEIGHTS", raising=False)
    db = _letter_lexicon(tmp_path / "lex.sqlite")
    weights = make_tiny_clip(tmp_path / "clip")
    photo = _own_thumbnail(db, "B", tmp_path / "b.png")
    args = ["find-sign", str(photo), "--lang", "ase", "--route", "clip", "--db", str(db),
            "--top", "2"]
    assert main(args + ["--clip-weights", str(weights)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("1. B (ase, entry 2): score 1.00"), captured.out
    assert len(lines) == 2 and "embedded 3 signs" in captured.err
    assert (tmp_path / "lex.clip-cache.sqlite").is_file()
    # The saved setting is used without the flag; the cache answers (nothing embedded).
    assert main(["config", "set", "clip_weights", str(weights)]) == 0
    capsys.readouterr()
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("1. B (ase, entry 2): score 1.00")
    assert "embedded" not in captured.err


def test_find_sign_clip_route_needs_weights_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SIGNSTUDIO_CLIP_WEIGHTS", raising=False)
    db = _letter_lexicon(tmp_path / "lex.sqlite")
    photo = tmp_path / "p.png"
    photo.write_bytes(b"unused")
    args = ["find-sign", str(photo), "--lang", "ase", "--route", "clip", "--db", str(db)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no CLIP weights configured" in err and "config set clip_weights" in err
    missing = tmp_path / "ViT-B-32.safetensors"
    monkeypatch.setenv("SIGNSTUDIO_CLIP_WEIGHTS", str(missing))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "no such file" in err and "Traceback" not in err


@pytest.mark.gl
@pytest.mark.slow
def test_find_sign_both_routes_report_both_rankings(tmp_path, capsys, monkeypatch):
    from tests.engine.test_encoders import make_tiny_clip

    db = _letter_lexicon(tmp_path / "lex.sqlite")
    monkeypatch.setenv("SIGNSTUDIO_CLIP_WEIGHTS", str(make_tiny_clip(tmp_path / "clip")))
    photo = _own_thumbnail(db, "V", tmp_path / "v.png")
    assert main(["find-sign", str(photo), "--lang", "ase", "--route", "both",
                 "--db", str(db), "--top", "3"]) == 0
    out = capsys.readouterr().out
    mediapipe, clip = out.split("CLIP image (clip):\n")
    assert mediapipe.startswith("MediaPipe handshape:\n")
    # MediaPipe either ranks the letters or says it found no hand; CLIP always ranks.
    assert "1. " in mediapipe or "no hand found" in mediapipe
    assert clip.splitlines()[0].startswith("1. V (ase, entry 3): score 1.00")
    assert len(clip.splitlines()) == 3
