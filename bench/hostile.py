"""Benchmark: the large hostile cases stay bounded (time and peak memory).

    python bench/hostile.py [--db PATH] [--lang ase]

Each case runs in a fresh Python process so its peak resident memory is its own:
- text -> signed motion (tokens, assembly, transitions) for 1,000, 10,000 and 20,000
  characters of running English text, the most a generation accepts; the lexicon is
  ``--db`` or, when absent, bench/text_to_motion.py's synthetic alphabet (26 letters of
  25 frames at 25 fps, the size of the real clips), so every word is fingerspelled;
- 100,000 characters, which must be refused at once;
- a project and an ``.npz`` holding a 1 GB array of zeros compressed to a few MB, which
  must be refused without inflating it.
Prints each case's wall time and peak memory with the machine's load; the last line
is ``hostile_text_max: <seconds> s`` (the 20,000-character generation).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("the deaf club meets on friday evenings near the old station and everyone "
         "brings something to share with the new members who are learning to sign ").split()


def running_text(characters: int) -> str:
    words, length = [], 0
    while length < characters:
        word = WORDS[len(words) % len(WORDS)]
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:characters]


def case_text(characters: int, db: str | None, language: str) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from text_to_motion import synthetic_store

    from engine.data.lexicon import LexiconStore
    from engine.generate.assemble import assemble
    from engine.generate.text import text_to_tokens

    folder = tempfile.mkdtemp()
    store = LexiconStore(db) if db else synthetic_store(Path(folder))
    text = running_text(characters)
    started = time.perf_counter()
    try:
        tokens = list(text_to_tokens(text, language, store))
        project = assemble(tokens, store, language)
        outcome = f"{project.motion.num_frames} frames, {len(project.segments)} segments"
    except ValueError as error:
        outcome = f"refused: {str(error)[:90]}"
    return {"seconds": time.perf_counter() - started, "outcome": outcome}


def case_bomb(kind: str) -> dict:
    import numpy as np

    from engine.motion import Motion, Project, load_project, save_project
    from engine.motion.array_files import MAX_ARRAY_BYTES
    from engine.motion.errors import ProjectFileError

    folder = Path(tempfile.mkdtemp())
    count = MAX_ARRAY_BYTES // 4 + 1024
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0, np.float32))
    header["shape"] = (count, 1)  # a (frames, 1) array: ~1 GB of float32

    def write_member(archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name, "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            zeros = bytes(1 << 24)
            for _ in range(count * 4 // len(zeros) + 1):
                member.write(zeros)

    if kind == "project":
        path = folder / "bomb.signstudio"
        save_project(Project(motion=Motion.zeros(2)), folder / "good.signstudio")
        with zipfile.ZipFile(folder / "good.signstudio") as good, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
            for info in good.infolist():
                if info.filename == "motion/transl.npy":
                    write_member(bomb, info.filename)
                else:
                    bomb.writestr(info, good.read(info))
        read = load_project
    else:
        path = folder / "bomb.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
            write_member(bomb, "poses.npy")
        from engine.export.motion_files import read_motion_file as read
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        read(path)
        outcome = "READ (should have been refused)"
    except ProjectFileError as error:
        outcome = f"refused: {error.problem[:90]}"
    seconds = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"seconds": seconds, "outcome": outcome, "file_mb": path.stat().st_size / 2**20,
            "grown_mb": grown / 1024}


def run_case(args: list[str]) -> dict:
    """One case in a fresh process: its result and its peak resident memory (MB)."""
    command = [sys.executable, __file__, "--case", *args]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    result["peak_mb"] = result.pop("peak_kb") / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a lexicon (default: a synthetic alphabet)")
    parser.add_argument("--lang", default="ase")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case
        result = (case_text(int(rest[0]), args.db, args.lang) if kind == "text"
                  else case_bomb(rest[0]))
        result["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f} (1 min)")
    figures = {}
    for characters in (1_000, 10_000, 20_000, 100_000):
        result = run_case(["text", str(characters)] + (["--db", args.db] if args.db else []))
        figures[characters] = result
        print(f"text {characters:>7,} chars: {result['seconds']:7.2f} s, peak "
              f"{result['peak_mb']:6.0f} MB  {result['outcome']}")
    for kind in ("project", "npz"):
        result = run_case(["bomb", kind])
        print(f"1 GB zip bomb in a {kind} ({result['file_mb']:.1f} MB on disk): "
              f"{result['seconds']:.3f} s, {result['grown_mb']:.0f} MB grown while reading "
              f"(process peak {result['peak_mb']:.0f} MB)  {result['outcome']}")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print(f"hostile_text_max: {figures[20_000]['seconds']:.2f} s")


if __name__ == "__main__":
    main()
