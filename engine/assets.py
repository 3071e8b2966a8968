"""Where the embedded assets live.

``SIGNSTUDIO_ASSETS_DIR`` overrides the location (used by the packaged app, whose
bundle puts assets/ beside the code); otherwise the repository's top-level ``assets/``
folder, which an editable install (``pip install -e .``) reads in place.
"""
from __future__ import annotations

import os
from pathlib import Path


def assets_dir() -> Path:
    override = os.environ.get("SIGNSTUDIO_ASSETS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "assets"


def asset_path(name: str) -> Path:
    """Path of an embedded asset; raises FileNotFoundError naming where it looked."""
    path = assets_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"embedded asset '{name}' not found at {path}; reinstall Sign Studio or set "
            "SIGNSTUDIO_ASSETS_DIR to the folder that holds it"
        )
    return path
