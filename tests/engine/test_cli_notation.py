"""signstudio-cli and notation: ``sign``, ``lexicon add-notation``/``add-sigml``,
``export --sigml``; bad notation is one clear line and writes nothing."""
from __future__ import annotations

import numpy as np
import pytest

from engine.cli import main
from engine.motion import load_project
from engine.notation.sigml import read_sigml
from engine.notation.symbols import from_names

KIND = "flathand thumboutmod extfingero palmd chest lrat moved smallmod"


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_SMPLX_DIR", raising=False)


def test_sign_from_names_to_a_project_with_keyframes_at_postures(tmp_path, capsys):
    out = tmp_path / "kind.signstudio"
    assert main(["sign", KIND, "--gloss", "KIND", "-o", str(out)]) == 0
    project = load_project(out)
    assert [s.gloss for s in project.segments] == ["KIND"]
    assert project.segments[0].notation == from_names(KIND)
    assert project.segments[0].kind.value == "notation"
    # rest, rise end, settle, move, hold end, rest again
    assert len(project.keyframes) == 6 and project.keyframes[-1].frame == project.motion.num_frames - 1
    assert "keyframes at its postures" in capsys.readouterr().out


def test_sign_from_symbols_to_sigml_round_trips(tmp_path):
    out = tmp_path / "kind.sigml"
    assert main(["sign", from_names(KIND), "--gloss", "KIND", "-o", str(out)]) == 0
    (sign,) = read_sigml(out)
    assert sign.gloss == "KIND" and sign.hamnosys == from_names(KIND)


@pytest.mark.parametrize("notation,message", [
    ("flathand palmd chest", "HamNoSys position 1: expected an extended-finger direction"),
    ("flathand extfingero palmd orirelative chest", "cannot synthesise relative orientation"),
    ("flathand extfingero palmd chst", "not a HamNoSys 4 symbol name: 'chst'"),
])
def test_bad_notation_is_one_line_and_writes_nothing(tmp_path, capsys, notation, message):
    out = tmp_path / "bad.signstudio"
    assert main(["sign", notation, "-o", str(out)]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_lexicon_add_notation_and_sigml_then_generate_and_export_sigml(tmp_path, capsys):
    db = str(tmp_path / "lexicon.sqlite")
    assert main(["lexicon", "add-notation", KIND, "--gloss", "KIND", "--lang", "sgg",
                 "--word", "kind", "--db", db]) == 0
    sigml = tmp_path / "mine.sigml"
    assert main(["sign", "finger2 extfingero palmd chest moveo", "--gloss", "DU", "-o",
                 str(sigml)]) == 0
    assert main(["lexicon", "add-sigml", str(sigml), "--lang", "sgg", "--db", db]) == 0
    assert main(["lexicon", "list", "--lang", "sgg", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "KIND" in listing and "DU" in listing
    # one letter so the language has an alphabet; then the sentence
    from engine.data.lexicon import LexiconEntry, LexiconStore
    from engine.motion.motion import Motion

    with LexiconStore(db) as store:
        store.add(LexiconEntry(gloss="A", language="sgg", words=("a",), motion=Motion.zeros(3),
                               source_kind="manual", source="test", source_hash="a",
                               licence="test", kind="letter"))
    project = tmp_path / "sentence.signstudio"
    assert main(["generate", "du kind", "--lang", "sgg", "--db", db, "-o", str(project)]) == 0
    out = tmp_path / "sentence.sigml"
    assert main(["export", str(project), "--sigml", str(out)]) == 0
    assert [s.gloss for s in read_sigml(out)] == ["DU", "KIND"]


def test_export_sigml_of_a_project_without_notation_says_so(tmp_path, capsys):
    from engine.motion import save_project
    from engine.motion.motion import Motion
    from engine.motion.project import Project, Segment

    project = tmp_path / "recorded.signstudio"
    save_project(Project(motion=Motion.zeros(10), segments=(Segment("HALLO", "gsg", 0, 10),)),
                 project)
    out = tmp_path / "out.sigml"
    assert main(["export", str(project), "--sigml", str(out)]) != 0
    assert "nothing to write as SiGML" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.gl
def test_contact_sheet_shows_signwriting_beside_the_postures(tmp_path, capsys):
    import imageio.v3 as iio

    from engine.data.lexicon import LexiconStore
    from engine.data.lexicon_build import build_from_notation

    db = tmp_path / "lexicon.sqlite"
    with LexiconStore(db) as store:
        build_from_notation(store, glosses=["KIND", "DU"])
    out = tmp_path / "sheet.png"
    assert main(["sheet", "KIND", "DU", "--db", str(db), "-o", str(out), "--tile", "120"]) == 0
    picture = iio.imread(out)
    assert picture.shape[:2] == (2 * (120 + 30), 4 * 120)
    row = picture[:120]
    assert (row[:, :120] < 100).any()  # the SignWriting drawn in black
    first, last = row[:, 120:240].astype(int), row[:, 360:480].astype(int)
    assert (np.abs(first - last).max(axis=-1) > 30).sum() > 50  # the hand moved
    assert main(["sheet", "KEINSOLCHES", "--db", str(db), "-o", str(out)]) != 0
    assert "no sgg sign made from notation for: KEINSOLCHES" in capsys.readouterr().err


def test_signing_speed_setting_sets_the_tempo(tmp_path, capsys):
    normal, fast = tmp_path / "normal.signstudio", tmp_path / "fast.signstudio"
    assert main(["sign", KIND, "-o", str(normal)]) == 0
    assert main(["config", "set", "signing_speed", "2"]) == 0
    assert main(["sign", KIND, "-o", str(fast)]) == 0
    frames = load_project(normal).motion.num_frames, load_project(fast).motion.num_frames
    assert frames[1] < frames[0] * 0.6
    assert main(["config", "set", "signing_speed", "fast"]) == 0
    capsys.readouterr()
    assert main(["sign", KIND, "-o", str(tmp_path / "x.signstudio")]) != 0
    assert "signing_speed setting: expected a number from 0.25 to 4" in capsys.readouterr().err
