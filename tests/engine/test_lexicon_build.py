"""Building the lexicon from real package clips: real fitting, idempotent, CLI."""
import functools
import re

import pytest

from engine.cli import main
from engine.data.lexicon import LexiconStore
from engine.data.lexicon_build import build_from_package

pytestmark = pytest.mark.slow


@pytest.fixture
def quick_fit():
    from engine.data.fit import fit_keypoints
    return functools.partial(fit_keypoints, iterations=30)


def test_build_is_idempotent_and_stores_real_letters(tmp_path, quick_fit):
    calls = []
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        report = build_from_package(store, ["ase"], glosses=["A", "B"], fit=quick_fit,
                                    progress=lambda d, t, m="": calls.append((d, t)))
        assert (report.added, report.skipped, report.failed) == (2, 0, [])
        assert calls[-1] == (2, 2)
        again = build_from_package(store, ["ase"], glosses=["A", "B"], fit=quick_fit)
        assert (again.added, again.skipped) == (0, 2)
        (a,) = store.find_gloss("ase", "A")
        entry = store.get(a.id)
        assert entry.kind == "letter" and entry.words == ("a",)
        assert entry.motion.num_frames > 10 and entry.motion.fps == 25
        assert "spoken-to-signed" in entry.licence and entry.quality


def test_unknown_language_is_refused(tmp_path):
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        with pytest.raises(ValueError, match="unknown sign language.*'xyz'.*ase"):
            build_from_package(store, ["xyz"])


def test_cli_build_list_generate(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "lex.sqlite")
    import engine.data.lexicon_build as lexicon_build
    from engine.data.fit import fit_keypoints
    monkeypatch.setattr(lexicon_build, "_default_fit",
                        lambda: functools.partial(fit_keypoints, iterations=20))
    for letter in "HI":
        assert main(["lexicon", "build", "--lang", "ase", "--gloss", letter, "--db", db]) == 0
    assert main(["lexicon", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "2 entries" in listing and " H " in listing
    # Each fit's error is a percentage, with what it means spelled out once.
    assert re.search(r" H +\d+ frames at 25 fps  fit +\d+\.\d%", listing), listing
    assert "in % of the hand's size" in listing
    out = tmp_path / "hi.signstudio"
    assert main(["generate", "Hi!", "--lang", "ase", "-o", str(out), "--db", db]) == 0
    printed = capsys.readouterr().out
    assert "fingerspelled" in printed and "H-I" in printed
    from engine.motion import load_project
    project = load_project(out)
    assert [s.gloss for s in project.segments] == ["H", "I"]
    assert main(["generate", "Hi", "--lang", "xyz", "-o", str(out), "--db", db]) == 1
    assert "supported: ase" in capsys.readouterr().err


def test_in_process_fitting_runs_on_one_torch_thread_and_restores_the_callers(
        tmp_path, monkeypatch):
    """As the worker processes do: torch's default thread count made in-process
    fitting ~9x slower under load. The caller's own setting must survive the build."""
    import torch

    import engine.data.lexicon_build as lexicon_build
    from engine.motion.errors import MotionError

    threads_while_fitting = []

    def recording_fit(sequence, **options):
        threads_while_fitting.append(torch.get_num_threads())
        raise MotionError("not fitted: this test only watches the thread count")

    monkeypatch.setattr(lexicon_build, "_default_fit", lambda: recording_fit)
    callers = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with LexiconStore(tmp_path / "lex.sqlite") as store:
            report = build_from_package(store, ["ase"], glosses=["H", "I"])
        assert threads_while_fitting == [1, 1] and len(report.failed) == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(callers)


def test_parallel_build_matches_and_skips(tmp_path):
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        report = build_from_package(store, ["ase"], glosses=["L", "Y", "V"], workers=2)
        assert (report.added, report.failed) == (3, [])
        again = build_from_package(store, ["ase"], glosses=["L", "Y", "V"], workers=2)
        assert (again.added, again.skipped) == (0, 3)
        assert sorted(s.gloss for s in store.list("ase")) == ["L", "V", "Y"]


def test_generate_writes_video_and_glb(tmp_path, quick_fit):
    """`generate` shares `export`'s writers: the same extensions work for both."""
    db = tmp_path / "lex.sqlite"
    with LexiconStore(db) as store:
        build_from_package(store, ["ase"], glosses=["H", "I"], fit=quick_fit)
    for name in ("hi.mp4", "hi.glb"):
        assert main(["generate", "hi", "--lang", "ase", "-o", str(tmp_path / name),
                     "--db", str(db)]) == 0
        assert (tmp_path / name).stat().st_size > 1000


def test_a_newer_fitter_refits_and_replaces_what_an_older_one_made(tmp_path, quick_fit):
    """A clip fitted by an older fitter (its source hash without this fitter's version)
    is fitted again and its old entry replaced, not kept beside the new one."""
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon import LexiconEntry, file_sha256
    from engine.data.lexicon_build import FITTER_VERSION, fitted_hash
    from engine.motion import Motion

    index = load_index()
    clip = index.find("ase", "A")
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        store.add(LexiconEntry(gloss="A", language="ase", words=("a",), motion=Motion.zeros(5),
                               source_kind="package", source=clip.path,
                               source_hash=file_sha256(index.path_of(clip)), licence="old",
                               kind="letter"))
        report = build_from_package(store, ["ase"], glosses=["A"], fit=quick_fit)
        assert (report.added, report.skipped) == (1, 0)
        (entry,) = store.find_gloss("ase", "A")
        refit = store.get(entry.id)
        assert refit.source_hash == fitted_hash(index.path_of(clip)) != file_sha256(
            index.path_of(clip))
        assert refit.motion.num_frames > 5 and FITTER_VERSION
        again = build_from_package(store, ["ase"], glosses=["A"], fit=quick_fit)
        assert (again.added, again.skipped) == (0, 1)
