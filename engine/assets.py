"""Where the embedded assets (default avatar, landmark offsets, trained models) live.

The repository's top-level ``assets/`` folder is installed as the package
``signstudio_assets`` (pyproject.toml maps the name onto the folder), so a wheel or a
plain ``pip install .`` carries it. Looked up in this order:

1. ``SIGNSTUDIO_ASSETS_DIR``, when set (the PyInstaller bundle sets it; tests point it
   at an empty folder to simulate a missing model);
2. the installed ``signstudio_assets`` package;
3. ``assets/`` beside the code: a source checkout run without installing, or an
   editable install made before the assets became a package.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

ASSETS_PACKAGE = "signstudio_assets"
SOURCE_ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def installed_assets_dir() -> Path | None:
    """Folder of the installed ``signstudio_assets`` package, or None when none is.

    The package has no ``__init__.py`` (the folder holds data only), so it is a
    namespace package: its folder is the first of its search locations that exists.
    """
    spec = importlib.util.find_spec(ASSETS_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        return None
    for location in spec.submodule_search_locations:
        if Path(location).is_dir():
            return Path(location)
    return None


def assets_dir() -> Path:
    override = os.environ.get("SIGNSTUDIO_ASSETS_DIR")
    if override:
        return Path(override)
    return installed_assets_dir() or SOURCE_ASSETS_DIR


def asset_path(name: str) -> Path:
    """Path of an embedded asset; raises FileNotFoundError naming where it looked."""
    path = assets_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"embedded asset '{name}' not found at {path}; reinstall Sign Studio or set "
            "SIGNSTUDIO_ASSETS_DIR to the folder that holds it"
        )
    return path
