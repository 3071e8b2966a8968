"""Atomic file output: a file appears complete under its name, or not at all.

Every writer in the engine (projects, exports, the lexicon's exports) goes through
``atomic_output`` so that a crash, a cancel or an error never leaves a truncated file
where the user's good one was.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file keeps ``path``'s suffix so tools that pick a format by extension
    (ffmpeg, imageio) still work. On any exception, including ``Cancelled``, the
    temporary file is removed and ``path`` is left exactly as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent
    )
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        with open(temp_path, "rb+") as written:  # flush to disk before the rename
            os.fsync(written.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would have had
        # (the old file's mode when replacing one, else 0666 less the umask).
        os.chmod(temp_path, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(temp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp_path.unlink()
        raise
