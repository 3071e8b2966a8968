"""Error types that name what was wrong, so a user can fix the input."""
from __future__ import annotations

from pathlib import Path


class MotionError(ValueError):
    """A Motion (or a part of a Project) failed validation.

    The message names the field and what was expected, e.g.
    ``Motion.body_pose: expected shape (F, 21, 3) with F=120, got (120, 63)``.
    """


class ProjectFileError(ValueError):
    """A project or motion file could not be read or written.

    ``path`` is the file, ``problem`` a sentence saying what is wrong with it.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
