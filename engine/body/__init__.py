"""Body models: the embedded default avatar and SMPL-X, behind one BodyModel protocol."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from engine.body.base import BodyModel, BodyOutput
from engine.body.default_avatar import DefaultAvatar, default_avatar
from engine.body.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from engine.body.smplx_model import SMPLX_DIR_ENV, SmplxBody, SmplxModelNotFound
from engine.motion.project import AvatarChoice


def load_body_model(choice: AvatarChoice | str = AvatarChoice.DEFAULT,
                    smplx_dir: str | Path | None = None) -> BodyModel:
    """The body model a project asks for.

    SMPL-X needs the user's model folder: ``smplx_dir``, else $SIGNSTUDIO_SMPLX_DIR,
    else the ``smplx_dir`` setting (``signstudio-cli config set smplx_dir PATH``).
    """
    choice = AvatarChoice(choice)
    if choice is AvatarChoice.SMPLX:
        from engine.settings import resolve_smplx_dir

        return SmplxBody(resolve_smplx_dir(smplx_dir))
    return default_avatar()


@functools.lru_cache(maxsize=4)
def _smplx_body(model_file: str, modified_ns: int, size: int) -> SmplxBody | None:
    """SMPL-X from ``model_file``, loaded once per version of the file (its time and
    size), or None when it cannot be loaded: remembered too, so a broken file is not
    read again on every edit."""
    try:
        return SmplxBody(Path(model_file).parent)
    except (OSError, ValueError, KeyError, ImportError, RuntimeError):
        return None


def shown_body(choice: AvatarChoice | str = AvatarChoice.DEFAULT) -> BodyModel:
    """The body a project with avatar ``choice`` is shown on, for the steps that shape
    its motion to that body (keeping the hands out of it): SMPL-X from the configured
    folder, loaded once per model file, or the embedded avatar when that is the choice
    or SMPL-X's files are missing or unusable (the viewport then shows it too)."""
    if AvatarChoice(choice) is not AvatarChoice.SMPLX:
        return default_avatar()
    from engine.body.smplx_model import find_smplx_model_file
    from engine.settings import resolve_smplx_dir

    try:
        model_file = find_smplx_model_file(resolve_smplx_dir(None), "neutral").resolve()
        stat = os.stat(model_file)
    except (OSError, ValueError):
        return default_avatar()
    body = _smplx_body(str(model_file), stat.st_mtime_ns, stat.st_size)
    return default_avatar() if body is None else body


__all__ = [
    "BodyModel", "BodyOutput", "DefaultAvatar", "default_avatar", "JOINT_NAMES", "NUM_JOINTS",
    "PARENTS", "SMPLX_DIR_ENV", "SmplxBody", "SmplxModelNotFound", "load_body_model",
    "shown_body",
]
