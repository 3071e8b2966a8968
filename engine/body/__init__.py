"""Body models: the embedded default avatar and SMPL-X, behind one BodyModel protocol."""
from __future__ import annotations

from pathlib import Path

from engine.body.base import BodyModel, BodyOutput
from engine.body.default_avatar import DefaultAvatar, default_avatar
from engine.body.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from engine.body.smplx_model import SMPLX_DIR_ENV, SmplxBody, SmplxModelNotFound
from engine.file_cache import FileCache
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


def _smplx_or_none(model_file: Path) -> SmplxBody | None:
    """SMPL-X from ``model_file``'s folder, or None when it cannot be loaded (cached as
    well, so a broken file is not read again on every edit)."""
    try:
        return SmplxBody(Path(model_file).parent)
    except (OSError, ValueError, KeyError, ImportError, RuntimeError):
        return None


#: SMPL-X bodies by model file version.
_SMPLX_BODIES: FileCache[SmplxBody | None] = FileCache(max_entries=4)


def shown_body(choice: AvatarChoice | str = AvatarChoice.DEFAULT) -> BodyModel:
    """The body a project with avatar ``choice`` is shown on, for the steps that shape
    its motion to that body (keeping the hands out of it): SMPL-X from the configured
    folder, loaded once per model file version, or the embedded avatar when that is the
    choice or SMPL-X's files are missing or unusable (the viewport then shows it too)."""
    if AvatarChoice(choice) is not AvatarChoice.SMPLX:
        return default_avatar()
    from engine.body.smplx_model import find_smplx_model_file
    from engine.settings import resolve_smplx_dir

    try:
        model_file = find_smplx_model_file(resolve_smplx_dir(None), "neutral")
    except (OSError, ValueError):
        return default_avatar()
    body = _SMPLX_BODIES.get(model_file, _smplx_or_none)
    return default_avatar() if body is None else body


__all__ = [
    "BodyModel", "BodyOutput", "DefaultAvatar", "default_avatar", "JOINT_NAMES", "NUM_JOINTS",
    "PARENTS", "SMPLX_DIR_ENV", "SmplxBody", "SmplxModelNotFound", "load_body_model",
    "shown_body",
]
