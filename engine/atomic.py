"""Atomic file output: a file appears complete under its name, or not at all.

Every writer in the engine (projects, exports, the lexicon's exports) goes through
``atomic_output`` so that a crash, a cancel or an error never leaves a truncated file
where the user's good one was.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

#: What marks our temporary files (before the target's own suffix).
PARTIAL_MARK = ".partial"


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_partials(path: Path) -> list[Path]:
    """Delete the temporary files that killed writers left beside ``path`` (their names
    carry the writer's process id; a live writer's are kept, and so are other targets'
    whose names merely start alike, such as ``take.2024.signstudio``'s beside
    ``take.signstudio``). Returns what was removed."""
    removed = []
    name = re.compile(rf"\.{re.escape(path.stem)}\.(\d+)\.[A-Za-z0-9_]+"
                      rf"{re.escape(PARTIAL_MARK + path.suffix)}")
    for candidate in path.parent.glob(f".{glob.escape(path.stem)}.*{PARTIAL_MARK}*"):
        match = name.fullmatch(candidate.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


#: Errors that mean the file could not be written, whatever raised them.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _about_writing(error: OSError, *paths: Path) -> bool:
    named = {str(getattr(error, name, None) or "") for name in ("filename", "filename2")}
    return error.errno in _WRITE_ERRNOS or bool(named & {str(p) for p in paths})


@contextlib.contextmanager
def atomic_output(path: str | Path,
                  before_replace: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file keeps ``path``'s suffix so tools that pick a format by extension
    (ffmpeg, imageio) still work, and is named ``.<stem>.<pid>.<random>.partial<suffix>``
    so that the next write to ``path`` can remove what a killed writer left
    (``remove_stale_partials``). On any exception, including ``Cancelled``, the
    temporary file is removed and ``path`` is left exactly as it was.
    ``before_replace()`` runs last, just before the rename; raising there cancels it
    (a save that finds the file changed by someone else since it was opened).
    A ``path`` that is a folder, a folder we may not write in, or a write that fails
    (a full disk) raises ``ProjectFileError`` naming ``path``.
    """
    # Imported here: engine.motion's own writers import this module.
    from engine.motion.errors import ProjectFileError

    path = Path(path)
    if path.is_dir():
        raise ProjectFileError(path, "is a folder; expected a file name to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(path)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{path.stem}.{os.getpid()}.", suffix=f"{PARTIAL_MARK}{path.suffix}",
            dir=path.parent)
    except OSError as error:
        raise ProjectFileError(path, f"cannot write in {path.parent} "
                                     f"({error.strerror or error})") from None
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        with open(temp_path, "rb+") as written:  # flush to disk before the rename
            os.fsync(written.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would have had
        # (the old file's mode when replacing one, else 0666 less the umask).
        os.chmod(temp_path, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        if before_replace is not None:
            before_replace()
        os.replace(temp_path, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            temp_path.unlink()
        if isinstance(error, OSError) and _about_writing(error, temp_path, path):
            # The writer's error names the temporary file; the user knows only ``path``.
            raise ProjectFileError(path, f"could not be written ({error.strerror or error}); "
                                         "the previous file, if any, is unchanged") from error
        raise  # e.g. Cancelled, or ffmpeg failing to start: not a problem with the file
