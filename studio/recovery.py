"""Autosave and crash recovery: one recovery project in the user data folder.

The main window writes the committed project here every few seconds while it has
unsaved changes, and deletes it on a clean exit (or after a save). Finding it at start
therefore means the last session ended without closing cleanly: the app offers it back.
Qt-free; writes are atomic (``save_project`` goes through ``atomic_output``).
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.atomic import atomic_output
from engine.motion.errors import ProjectFileError
from engine.motion.project import Project
from engine.motion.project_io import load_project, save_project


def default_recovery_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("signstudio")) / "recovery"


class RecoveryStore:
    """``folder/autosave.signstudio`` plus ``autosave.json`` (the file it came from)."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else default_recovery_dir()

    @property
    def project_path(self) -> Path:
        return self.folder / "autosave.signstudio"

    @property
    def info_path(self) -> Path:
        return self.folder / "autosave.json"

    def exists(self) -> bool:
        return self.project_path.is_file()

    def write(self, project: Project, original: Path | None) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        save_project(project, self.project_path)
        with atomic_output(self.info_path) as temp:
            temp.write_text(json.dumps({"original": str(original) if original else ""}),
                            encoding="utf-8")
        return self.project_path

    def load(self) -> tuple[Project, Path | None]:
        """The recovered project and the file it was edited from (None if unsaved).

        Raises ``ProjectFileError`` when the recovery file is damaged.
        """
        project = load_project(self.project_path)
        original = None
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
            original = Path(data["original"]) if data.get("original") else None
        except (OSError, ValueError, KeyError, TypeError):
            pass  # the project itself is what matters; its old name is a nicety
        return project, original

    def discard(self) -> None:
        for path in (self.project_path, self.info_path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


__all__ = ["RecoveryStore", "default_recovery_dir", "ProjectFileError"]
