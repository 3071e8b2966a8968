"""User settings shared by the CLI and the studio: one small JSON file.

Location: ``$SIGNSTUDIO_CONFIG_DIR/settings.json`` if set, else the platform's user
config folder (``~/.config/signstudio`` on Linux, via platformdirs). One file rather
than Qt's QSettings so the CLI and the GUI see the same values. Writes are atomic. A
damaged file never locks the user out: the app and the CLI report it with its path and
run on the defaults, and the next save (``config set``, ``config reset``, the app's
Settings dialog) keeps the damaged file aside before writing a good one.

Precedence for the SMPL-X folder: an explicit argument (``--smplx-dir``), then the
``SIGNSTUDIO_SMPLX_DIR`` environment variable, then this file. The CLIP weights
(``clip_weights``: an open_clip weights file or a folder holding
``open_clip_config.json`` and its weights; never downloaded) follow the same order with
``--clip-weights`` and ``SIGNSTUDIO_CLIP_WEIGHTS``.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.atomic import atomic_output

CONFIG_DIR_ENV = "SIGNSTUDIO_CONFIG_DIR"
CACHE_DIR_ENV = "SIGNSTUDIO_CACHE_DIR"
CLIP_WEIGHTS_ENV = "SIGNSTUDIO_CLIP_WEIGHTS"
SMPLX_DIR_ENV = "SIGNSTUDIO_SMPLX_DIR"
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Settings:
    smplx_dir: str = ""            # folder holding SMPLX_NEUTRAL.npz ("" = not set)
    default_language: str = "ase"  # ISO 639-3 sign-language code
    render_quality: str = "high"   # "draft" | "high"
    lexicon_path: str = ""         # lexicon database ("" = the user data folder)
    clip_weights: str = ""         # open_clip weights file or folder ("" = no CLIP route)
    clip_model: str = "ViT-B-32"   # open_clip architecture of a weights *file*
    signing_speed: str = "1"       # tempo of generated signing (0.5 half, 2 double)
    top_colour: str = ""           # the default avatar's top, "#rrggbb" ("" = dark grey-blue)
    trousers_colour: str = ""      # and trousers ("" = near black)
    photoreal_model: str = ""      # a photoreal model `train pgmm` wrote ("" = none)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(Settings))


def settings_path() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override) / "settings.json"
    from platformdirs import user_config_dir

    return Path(user_config_dir("signstudio")) / "settings.json"


def user_cache_dir() -> Path:
    """Where derived files are cached (``$SIGNSTUDIO_CACHE_DIR`` if set, else the
    platform's user cache folder, ``~/.cache/signstudio`` on Linux)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir as platform_cache_dir

    return Path(platform_cache_dir("signstudio"))


@dataclass(frozen=True)
class SettingsRead:
    """What the settings file holds: ``settings`` (defaults where it is missing or
    damaged) and ``problem``, a sentence naming the file and what is wrong, or None."""

    path: Path
    settings: Settings
    problem: str | None = None


def read_settings(path: Path | None = None) -> SettingsRead:
    """The saved settings; a damaged file never raises (the user could not repair it
    from the CLI otherwise). Unreadable or non-JSON content gives all defaults; a
    field of the wrong type gives that field's default; both are reported in
    ``problem``."""
    path = path or settings_path()
    if not path.exists():
        return SettingsRead(path, Settings())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = f"settings file is not valid JSON ({error})" if not isinstance(error, OSError) \
            else f"settings file cannot be read ({error.strerror or error})"
        return SettingsRead(path, Settings(), f"{path}: {reason}")
    if not isinstance(data, dict):
        return SettingsRead(path, Settings(), f"{path}: settings file: expected a JSON object")
    values, bad = {}, []
    for name in FIELDS:
        if name in data:
            if isinstance(data[name], str):
                values[name] = data[name]
            else:
                bad.append(f"'{name}' (expected a string, got {data[name]!r:.40})")
    problem = f"{path}: settings field(s) {', '.join(bad)}" if bad else None
    return SettingsRead(path, Settings(**values), problem)


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings, or the defaults where there are none or they are damaged
    (``read_settings`` says what was wrong)."""
    return read_settings(path).settings


def keep_damaged_settings(path: Path | None = None) -> Path | None:
    """Move a damaged settings file aside (``settings.damaged-<UTC time>.json``) so it
    can be replaced; returns where it went, or None when the file is fine or absent."""
    path = path or settings_path()
    if read_settings(path).problem is None or not path.is_file():
        return None
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    backup = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    os.replace(path, backup)
    return backup


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` atomically; a damaged file is kept aside first
    (``keep_damaged_settings``), never overwritten silently."""
    path = path or settings_path()
    keep_damaged_settings(path)
    payload = {"version": SETTINGS_VERSION, **dataclasses.asdict(settings)}
    with atomic_output(path) as temp:
        temp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


#: The range of ``signing_speed`` accepted: slower than a quarter or faster than four
#: times the default pace stops looking like signing.
SIGNING_SPEED_RANGE = (0.25, 4.0)


def signing_speed(settings: Settings) -> float:
    """The ``signing_speed`` setting as a number; ValueError naming the setting and the
    range when it is not one."""
    low, high = SIGNING_SPEED_RANGE
    try:
        speed = float(settings.signing_speed)
    except ValueError:
        speed = float("nan")
    if not low <= speed <= high:
        raise ValueError(f"signing_speed setting: expected a number from {low:g} to {high:g} "
                         f"(1 is the default pace), got {settings.signing_speed!r}; "
                         "`signstudio-cli config set signing_speed 1` resets it")
    return speed


def clothing_colours(settings: Settings) -> tuple[str | None, str | None]:
    """(top, trousers) "#rrggbb" colours of the default avatar's clothing, None for the
    default; ValueError naming the setting when one is not a colour."""
    from engine.body.appearance import parse_colour

    colours = []
    for name in ("top_colour", "trousers_colour"):
        value = getattr(settings, name).strip()
        if value:
            try:
                parse_colour(value)
            except ValueError as error:
                raise ValueError(f"{name} setting: {error}; `signstudio-cli config set {name} "
                                 "\"\"` restores the default") from None
        colours.append(value or None)
    return colours[0], colours[1]


def resolve_smplx_dir(explicit: str | Path | None = None) -> str | None:
    """The SMPL-X folder to use: argument, then environment, then settings; or None."""
    if explicit:
        return str(explicit)
    return os.environ.get(SMPLX_DIR_ENV) or load_settings().smplx_dir or None


def resolve_clip_weights(explicit: str | Path | None = None) -> str | None:
    """The CLIP weights to use: argument, then ``$SIGNSTUDIO_CLIP_WEIGHTS``, then settings;
    or None when CLIP is not configured (the image route then uses MediaPipe only)."""
    if explicit:
        return str(Path(explicit).expanduser())
    value = os.environ.get(CLIP_WEIGHTS_ENV) or load_settings().clip_weights
    return str(Path(value).expanduser()) if value else None


def resolve_clip_model(explicit: str | None = None) -> str:
    """The open_clip architecture for a weights file: argument, then the ``clip_model``
    setting; an empty setting means the default ("ViT-B-32"), so clearing it cannot
    lock a user out of every command."""
    return explicit or load_settings().clip_model.strip() or Settings.clip_model
