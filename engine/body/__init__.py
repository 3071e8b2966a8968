"""Body models: the embedded default avatar and SMPL-X, behind one BodyModel protocol."""
from __future__ import annotations

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


__all__ = [
    "BodyModel", "BodyOutput", "DefaultAvatar", "default_avatar", "JOINT_NAMES", "NUM_JOINTS",
    "PARENTS", "SMPLX_DIR_ENV", "SmplxBody", "SmplxModelNotFound", "load_body_model",
]
