"""Error types that name what was wrong, so a user can fix the input."""
from __future__ import annotations

from pathlib import Path


class MotionError(ValueError):
    """A Motion (or a part of a Project) failed validation.

    The message names the field and what was expected, e.g.
    ``Motion.body_pose: expected shape (F, 21, 3) with F=120, got (120, 63)``.
    """


class UsageError(ValueError):
    """The caller asked for something that cannot be asked for: an option out of its
    range, an unknown name, a missing argument. The CLI exits 2 for it (bad use) and 1
    for every other error (the work was asked for properly but could not be done)."""


class ProjectFileError(ValueError):
    """A project or motion file could not be read or written.

    ``path`` is the file, ``problem`` a sentence saying what is wrong with it.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def user_message(error: BaseException) -> str:
    """One line for a user, for any error: ours already name the file or field and the
    problem; an OS error gets its file and reason; anything else its kind and message
    (the CLI and the studio both show this, never a traceback)."""
    if isinstance(error, (ValueError, FileNotFoundError)) and not isinstance(error, UnicodeError):
        return str(error)
    if isinstance(error, OSError):
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        return f"{where}{error.strerror or error}"
    if isinstance(error, MemoryError):
        return "out of memory: the input asks for more than this machine has"
    if isinstance(error, RecursionError):
        return "the input is nested too deeply to read"
    text = str(error).strip().splitlines()
    return f"unexpected {type(error).__name__}: {text[0] if text else 'no details'}"
