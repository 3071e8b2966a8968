"""Benchmark: build the lexicon from the package's fingerspelling clips (issue 3).

    python bench/lexicon_build.py [--langs ase,gsg] [--workers 2] [--keep LEXICON]

Times ``engine.data.lexicon_build.build_from_package`` (read, fit and store every clip
of ``--langs``, default all 19 languages, 600 clips) into a fresh SQLite file in a
temporary folder, with ``--workers`` fitting processes (default 2, one per core). Prints
per-language entry counts, the fit quality per language (median over clips of each
clip's median 2D hand error, in hand sizes), the total, and last
``lexicon_build: <seconds> s``. Target on 2 cores: all 600 clips in < 10 minutes. The
machine is shared with other jobs, so the figure is noisy: check ``uptime``.
``--keep`` copies the built lexicon there (for the other benches' ``--db``).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from engine.data.lexicon import LexiconStore
from engine.data.lexicon_build import build_from_package


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", default=None,
                        help="comma-separated sign-language codes (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", help="copy the built lexicon to this path")
    args = parser.parse_args()
    languages = args.langs.split(",") if args.langs else None
    if args.workers < 1:
        parser.error("--workers must be >= 1")

    last = [0.0]

    def progress(done: int, total: int, message: str = "") -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"  {done}/{total} {message}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lexicon.sqlite"
        with LexiconStore(path) as store:
            started = time.perf_counter()
            try:
                report = build_from_package(store, languages, progress=progress,
                                            workers=args.workers)
            except ValueError as error:  # an unknown language code
                parser.error(str(error))
            seconds = time.perf_counter() - started
            counts = store.languages()
            quality: dict[str, list[float]] = {}
            for summary in store.list():
                quality.setdefault(summary.language, []).append(
                    summary.quality.get("hand_error_median", float("nan")))
        size = path.stat().st_size
        if args.keep:
            shutil.copyfile(path, args.keep)
    print(report.summary())
    print("language  entries  median clip 2D error (hand sizes)")
    for language, count in counts.items():
        values = np.array(quality.get(language, []), float)
        values = values[np.isfinite(values)]
        median = f"{np.median(values):.3f}" if values.size else "n/a"
        print(f"{language:8s}  {count:7d}  {median}")
    total = sum(counts.values())
    print(f"total: {total} entries, {size / 1e6:.1f} MB, {args.workers} workers, "
          f"{seconds / max(total, 1):.2f} s per clip")
    print(f"lexicon_build: {seconds:.1f} s")
    return 0 if not report.failed else 1


if __name__ == "__main__":
    sys.exit(main())
