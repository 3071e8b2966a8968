"""User settings shared by the CLI and the studio: one small JSON file.

Location: ``$SIGNSTUDIO_CONFIG_DIR/settings.json`` if set, else the platform's user
config folder (``~/.config/signstudio`` on Linux, via platformdirs). One file rather
than Qt's QSettings so the CLI and the GUI see the same values. Writes are atomic; a
damaged file is reported with its path and never overwritten silently.

Precedence for the SMPL-X folder: an explicit argument (``--smplx-dir``), then the
``SIGNSTUDIO_SMPLX_DIR`` environment variable, then this file.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.atomic import atomic_output
from engine.motion.errors import ProjectFileError

CONFIG_DIR_ENV = "SIGNSTUDIO_CONFIG_DIR"
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Settings:
    smplx_dir: str = ""            # folder holding SMPLX_NEUTRAL.npz ("" = not set)
    default_language: str = "ase"  # ISO 639-3 sign-language code
    render_quality: str = "high"   # "draft" | "high"
    lexicon_path: str = ""         # lexicon database ("" = the user data folder)

    def replace(self, **changes: object) -> "Settings":
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(Settings))


def settings_path() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override) / "settings.json"
    from platformdirs import user_config_dir

    return Path(user_config_dir("signstudio")) / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings, or the defaults when there is no file yet."""
    path = path or settings_path()
    if not path.is_file():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectFileError(path, f"settings file is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ProjectFileError(path, "settings file: expected a JSON object")
    values = {}
    for name in FIELDS:
        if name in data:
            if not isinstance(data[name], str):
                raise ProjectFileError(path, f"settings field '{name}': expected a string, "
                                             f"got {data[name]!r}")
            values[name] = data[name]
    return Settings(**values)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    path = path or settings_path()
    payload = {"version": SETTINGS_VERSION, **dataclasses.asdict(settings)}
    with atomic_output(path) as temp:
        temp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


def resolve_smplx_dir(explicit: str | Path | None = None) -> str | None:
    """The SMPL-X folder to use: argument, then environment, then settings; or None."""
    if explicit:
        return str(explicit)
    from engine.body.smplx_model import SMPLX_DIR_ENV

    return os.environ.get(SMPLX_DIR_ENV) or load_settings().smplx_dir or None
