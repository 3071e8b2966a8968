"""Hostile input through the CLI: every case ends in one line that names the file or
field and what was expected, exit status 2, and never a Python traceback.

Fixtures are generated here, small on disk. (Arrays, pickles and compression bombs are
in test_file_safety.py; checkpoints in tests/learn/test_checkpoint_safety.py.)
"""
import json
import sqlite3
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from engine.cli import main
from engine.data.lexicon import LexiconStore
from engine.motion import Motion, Project, save_project
from tests.conftest import tiny_lexicon


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))


def one_error_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("signstudio-cli: error: ")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def lexicon(tmp_path):
    """A real SQLite lexicon with a 4-letter alphabet in ase."""
    path = tmp_path / "lexicon.sqlite"
    tiny_lexicon(path, languages=("ase",)).close()
    return path


def test_text_past_the_limit_is_refused_at_once(lexicon, tmp_path, capsys):
    text = "ab " * 7000  # 21,000 characters
    assert main(["generate", text, "--lang", "ase", "-o", str(tmp_path / "x.signstudio"),
                 "--db", str(lexicon)]) == 1
    one_error_line(capsys, "text: 21,000 characters; at most 20,000")
    assert not (tmp_path / "x.signstudio").exists()


def test_a_number_too_long_to_write_out_is_missing_with_a_reason(lexicon, tmp_path, capsys):
    from engine.generate.text import text_to_tokens
    with LexiconStore(lexicon) as store:
        tokens = list(text_to_tokens("9" * 5000, "ase", store))
    assert tokens[0].kind.value == "missing"
    assert "a number of 5000 digits" in tokens[0].note


@pytest.mark.parametrize("command", [
    ["generate", "hi", "--lang", "ase", "-o", "x.npz", "--fps", "1e9"],
    ["generate", "hi", "--lang", "ase", "-o", "x.npz", "--fps", "nan"],
    ["export", "in.signstudio", "-o", "x.mp4", "--fps", "0.001"],
    ["export", "in.signstudio", "-o", "x.mp4", "--width", "100000"],
    ["render", "in.signstudio", "-o", "x.png", "--height", "-5"],
])
def test_rates_and_sizes_outside_their_range_name_the_range(command, capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(command)
    assert exit_code.value.code == 2
    err = capsys.readouterr().err
    assert ("expected 1 to 240 frames per second" in err
            or "expected a whole number of pixels from 16 to 8192" in err), err


@pytest.mark.parametrize("fps", [1e-9, 1e9])
def test_a_motion_file_with_an_absurd_frame_rate_is_refused(tmp_path, capsys, fps):
    from engine.export.motion_files import write_npz
    good = write_npz(Motion.zeros(3), tmp_path / "good.npz")
    arrays = dict(np.load(good))
    arrays["mocap_frame_rate"] = np.float64(fps)
    np.savez(tmp_path / "odd.npz", **arrays)
    assert main(["export", str(tmp_path / "odd.npz"), "-o", str(tmp_path / "out.bvh")]) == 1
    one_error_line(capsys, "odd.npz", "mocap_frame_rate", "expected 1 to 1000 frames per second")


def test_a_deeply_nested_project_header_is_refused(tmp_path, capsys):
    path = tmp_path / "deep.signstudio"
    save_project(Project(motion=Motion.zeros(2)), tmp_path / "ok.signstudio")
    with zipfile.ZipFile(tmp_path / "ok.signstudio") as good, zipfile.ZipFile(path, "w") as bad:
        for info in good.infolist():
            raw = good.read(info)
            if info.filename == "project.json":
                raw = ("[" * 200_000 + "]" * 200_000).encode()
            bad.writestr(info, raw)
    assert main(["check-project", str(path)]) == 1
    one_error_line(capsys, "deep.signstudio", "nested too deeply")


def test_a_bvh_with_a_deep_hierarchy_is_refused(tmp_path, capsys):
    joints = "".join(f"JOINT j{n}\n{{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n"
                     for n in range(5000))
    text = ("HIERARCHY\nROOT pelvis\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition "
            "Zposition Zrotation Xrotation Yrotation\n" + joints + "}\n" * 5001
            + "MOTION\nFrames: 1\nFrame Time: 0.033\n0 0 0 0 0 0\n")
    (tmp_path / "deep.bvh").write_text(text)
    assert main(["export", str(tmp_path / "deep.bvh"), "-o", str(tmp_path / "out.npz")]) == 1
    one_error_line(capsys, "deep.bvh", "is nested more than 100 deep")


def test_an_output_path_that_is_a_folder(tmp_path, capsys):
    save_project(Project(motion=Motion.zeros(2)), tmp_path / "p.signstudio")
    (tmp_path / "out.npz").mkdir()
    assert main(["export", str(tmp_path / "p.signstudio"), "-o", str(tmp_path / "out.npz")]) == 1
    one_error_line(capsys, "out.npz: is a folder")
    assert [p.name for p in (tmp_path / "out.npz").iterdir()] == []


# ------------------------------------------------------------------ the lexicon
def test_a_corrupt_lexicon_is_reported_with_what_to_do(lexicon, capsys):
    raw = bytearray(lexicon.read_bytes())
    raw[4096:8192] = b"\xff" * 4096  # damage a page past the header
    lexicon.write_bytes(bytes(raw))
    for suffix in ("-wal", "-shm"):
        lexicon.with_name(lexicon.name + suffix).unlink(missing_ok=True)
    assert main(["lexicon", "list", "--db", str(lexicon)]) == 1
    one_error_line(capsys, str(lexicon), "lexicon build` starts a new one and keeps this file")
    assert main(["generate", "ab", "--lang", "ase", "-o", str(lexicon.parent / "x.npz"),
                 "--db", str(lexicon)]) == 1
    one_error_line(capsys, str(lexicon))


def test_lexicon_build_keeps_a_corrupt_database_and_starts_afresh(tmp_path, capsys,
                                                                  monkeypatch):
    import engine.data.lexicon_build as lexicon_build
    path = tmp_path / "lexicon.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    monkeypatch.setattr(lexicon_build, "build_from_package",
                        lambda store, *a, **k: lexicon_build.BuildReport())
    assert main(["lexicon", "build", "--lang", "ase", "--db", str(path)]) == 0
    kept = list(tmp_path.glob("lexicon.sqlite.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes().endswith(b"\xff" * 100)
    assert f"kept it as {kept[0]}" in capsys.readouterr().err
    with LexiconStore(path) as store:  # a sound, empty lexicon in its place
        assert len(store) == 0


@pytest.mark.slow  # starts a second Python to hold the lock
def test_a_locked_lexicon_waits_then_names_the_process_holding_it(lexicon, capsys,
                                                                   monkeypatch):
    import engine.data.lexicon as lexicon_module
    monkeypatch.setattr(lexicon_module, "BUSY_TIMEOUT_S", 0.5)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"db = sqlite3.connect({str(lexicon)!r}, isolation_level=None)\n"
         "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["lexicon", "build", "--lang", "ase", "--db", str(lexicon)]) == 1
        one_error_line(capsys, str(lexicon), "locked by another process", str(holder.pid),
                       "stayed locked for 0.5 s")
    finally:
        holder.kill()
        holder.wait()


def test_a_read_only_lexicon_lists_and_generates_but_refuses_to_build(lexicon, tmp_path,
                                                                      capsys, monkeypatch):
    import engine.data.lexicon as lexicon_module
    real_access = lexicon_module.os.access
    monkeypatch.setattr(lexicon_module.os, "access",  # tests run as root: chmod is not enough
                        lambda path, mode: False if mode == lexicon_module.os.W_OK
                        else real_access(path, mode))
    assert main(["lexicon", "list", "--db", str(lexicon)]) == 0
    assert "4 entries" in capsys.readouterr().out
    out = tmp_path / "fist.npz"
    assert main(["generate", "fist flat", "--lang", "ase", "-o", str(out), "--db",
                 str(lexicon)]) == 0
    assert out.stat().st_size > 0
    capsys.readouterr()
    assert main(["lexicon", "build", "--lang", "ase", "--db", str(lexicon)]) == 1
    one_error_line(capsys, "lexicon build refused", "cannot be written by this user",
                   "listing and generating still work")


def test_null_and_malformed_fields_are_reported_per_entry(lexicon, capsys):
    with sqlite3.connect(lexicon) as db:
        db.execute("PRAGMA ignore_check_constraints = ON")
        first, second = [row[0] for row in db.execute("SELECT id FROM entries ORDER BY id LIMIT 2")]
    # NOT NULL is in the schema; a database written by another tool may lack it.
    with sqlite3.connect(lexicon) as db:
        db.execute("PRAGMA writable_schema = ON")
        schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'entries'",
                   (schema.replace("NOT NULL", ""),))
    with sqlite3.connect(lexicon) as db:
        db.execute("UPDATE entries SET quality_json = NULL WHERE id = ?", (first,))
        db.execute("UPDATE entries SET quality_json = '[1', fps = NULL WHERE id = ?", (second,))
    assert main(["lexicon", "list", "--db", str(lexicon)]) == 0
    out = capsys.readouterr().out
    assert "[damaged row: quality_json is NULL]" in out
    assert "[damaged row: quality_json is not a JSON object; fps is NULL]" in out
    assert "4 entries in" in out and "2 with damaged fields" in out
    assert main(["lexicon", "list", "--json", "--db", str(lexicon)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sum(bool(e["problem"]) for e in listed) == 2


# ------------------------------------------------------------------ the entry point
def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    import engine.cli as cli

    def broken(args):
        raise RuntimeError("an engine bug\nsecond line")
    monkeypatch.setattr(cli, "cmd_info", broken)
    assert main(["info"]) == 1
    line = one_error_line(capsys, "unexpected RuntimeError: an engine bug", "--debug")
    assert "second line" not in line
    for command in (["--debug", "info"], ["info", "--debug"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "Traceback" in err and "signstudio-cli: error: unexpected RuntimeError" in err


def test_memory_and_recursion_errors_read_as_sentences(monkeypatch, capsys):
    import engine.cli as cli
    for error, text in ((MemoryError(), "out of memory"),
                        (RecursionError(), "nested too deeply")):
        monkeypatch.setattr(cli, "cmd_info", lambda args, e=error: (_ for _ in ()).throw(e))
        assert main(["info"]) == 1
        one_error_line(capsys, text)


def test_an_output_folder_that_cannot_be_written(tmp_path, capsys, monkeypatch):
    import errno
    import tempfile
    save_project(Project(motion=Motion.zeros(2)), tmp_path / "p.signstudio")
    locked = tmp_path / "locked"
    locked.mkdir()

    def refuse(*args, **kwargs):  # tests run as root, whom chmod does not stop
        raise PermissionError(errno.EACCES, "Permission denied", str(locked / ".x"))
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert main(["export", str(tmp_path / "p.signstudio"), "-o", str(locked / "o.npz")]) == 1
    one_error_line(capsys, f"{locked / 'o.npz'}: cannot write in {locked} (Permission denied)")


def test_a_full_disk_names_the_target_and_leaves_no_temporary_file(tmp_path, capsys,
                                                                   monkeypatch):
    import errno
    import zipfile as zipfile_module
    save_project(Project(motion=Motion.zeros(2)), tmp_path / "p.signstudio")
    real_writestr = zipfile_module.ZipFile.writestr

    def full(self, name, data, *args, **kwargs):
        if str(name).startswith("motion/"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_writestr(self, name, data, *args, **kwargs)
    monkeypatch.setattr(zipfile_module.ZipFile, "writestr", full)
    target = tmp_path / "copy.signstudio"
    assert main(["export", str(tmp_path / "p.signstudio"), "-o", str(target)]) == 1
    one_error_line(capsys, f"{target}: could not be written (No space left on device)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.signstudio"]


@pytest.fixture
def small_filesystem(tmp_path):
    """A 4 MB tmpfs at tmp_path / "fs" (a real full disk, a real read-only folder);
    skipped where this user may not mount."""
    import shutil
    folder = tmp_path / "fs"
    folder.mkdir()
    mounted = (shutil.which("mount") is not None and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True).returncode == 0)
    if not mounted:
        pytest.skip("needs permission to mount a tmpfs")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.slow
def test_a_really_full_disk_is_one_line_and_leaves_no_temporary_file(tmp_path, capsys,
                                                                     small_filesystem):
    from tests.conftest import random_motion
    source = tmp_path / "big.signstudio"
    save_project(Project(motion=random_motion(np.random.default_rng(0), num_frames=20_000)),
                 source)  # about 17 MB: more than the 4 MB filesystem holds
    target = small_filesystem / "copy.signstudio"
    assert main(["export", str(source), "-o", str(target)]) == 1
    one_error_line(capsys, f"{target}: could not be written (No space left on device)")
    assert list(small_filesystem.iterdir()) == []


def test_a_lexicon_on_a_read_only_filesystem_lists_and_generates(tmp_path, capsys,
                                                                  small_filesystem):
    path = small_filesystem / "odd #name?" / "lexicon.sqlite"
    path.parent.mkdir()
    tiny_lexicon(path, languages=("ase",)).close()  # WAL mode, as every lexicon
    subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)
    before = sorted(p.name for p in path.parent.iterdir())
    assert main(["lexicon", "list", "--db", str(path)]) == 0
    assert "4 entries" in capsys.readouterr().out
    out = tmp_path / "out.npz"
    assert main(["generate", "fist", "--lang", "ase", "-o", str(out), "--db", str(path)]) == 0
    assert main(["lexicon", "build", "--lang", "ase", "--db", str(path)]) == 1
    one_error_line(capsys, "lexicon build refused")
    assert sorted(p.name for p in path.parent.iterdir()) == before
    assert not (small_filesystem / "odd ").exists()  # the '#' did not cut the path short


def test_lexicon_build_on_a_folder_never_moves_it(tmp_path, capsys):
    folder = tmp_path / "mysigns"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    assert main(["lexicon", "build", "--lang", "ase", "--db", str(folder)]) == 1
    one_error_line(capsys, f"{folder}: is not a file; expected a lexicon database")
    assert (folder / "keep.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["mysigns", "config"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["config", "mysigns"] or \
        [p.name for p in tmp_path.iterdir()] == ["mysigns"]
