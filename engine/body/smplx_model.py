"""SMPL-X proper, through the ``smplx`` package, from the user's licensed model files.

The SMPL-X model files are under a non-commercial licence, so Sign Studio never ships
or downloads them: the user points the app at their folder (setting, ``--smplx-dir``,
or the ``SIGNSTUDIO_SMPLX_DIR`` environment variable). Accepted layouts:
``<dir>/SMPLX_NEUTRAL.npz`` or ``<dir>/smplx/SMPLX_NEUTRAL.npz`` (the download's).

Hands are created with ``flat_hand_mean=True`` so that a zero hand pose is the flat
hand, the same rest pose as the default avatar; with smplx's default (False) a zero
would mean MANO's relaxed mean hand and the two models would disagree.
``face_blendshapes`` (ARKit) have no SMPL-X counterpart: they are turned into SMPL-X's
own jaw turn and expression coefficients by a map measured from the user's model file
(``engine.body.smplx_face``), so the face shows on SMPL-X too and exports carry it.

The folder is the user's, filled with files from the internet, so nothing in it is ever
unpickled: ``read_smplx_model_file`` reads the numeric members only and names the rest,
and smplx (which itself loads with pickling on) is handed ``numeric_copy``, a file we
wrote from those checked arrays.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import atomic_output
from engine.body.base import BodyOutput, SmplxSkeleton
from engine.body.lbs import forward_kinematics
from engine.body.skeleton import JOINT_INDEX, PARENTS
from engine.motion.array_files import MAX_ARCHIVE_BYTES, read_bounded, read_npz
from engine.motion.errors import ProjectFileError
from engine.motion.motion import Motion
from engine.settings import SMPLX_DIR_ENV

GENDERS = ("neutral", "female", "male")


class SmplxModelNotFound(FileNotFoundError):
    """No usable SMPL-X model file in the configured folder."""


def find_smplx_model_file(folder: str | Path | None = None, gender: str = "neutral") -> Path:
    """The SMPL-X ``.npz`` for ``gender`` in ``folder`` (default: $SIGNSTUDIO_SMPLX_DIR)."""
    if gender not in GENDERS:
        raise ValueError(f"SMPL-X gender: expected one of {GENDERS}, got {gender!r}")
    if folder is None:
        folder = os.environ.get(SMPLX_DIR_ENV)
        if not folder:
            raise SmplxModelNotFound(
                f"no SMPL-X folder configured: set {SMPLX_DIR_ENV} or the SMPL-X model "
                "folder in Settings to the folder holding SMPLX_NEUTRAL.npz (licensed "
                "download from smpl-x.is.tue.mpg.de)"
            )
    folder = Path(folder)
    name = f"SMPLX_{gender.upper()}.npz"
    candidates = [folder / name, folder / "smplx" / name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SmplxModelNotFound(
        f"SMPL-X model file {name} not found; looked in: " + ", ".join(map(str, candidates))
    )


#: The arrays smplx reads from a model file, with their number of dimensions.
REQUIRED_MEMBERS = {"v_template": 2, "f": 2, "J_regressor": 2, "weights": 2,
                    "shapedirs": 3, "posedirs": 3, "kintree_table": 2,
                    "hands_componentsl": 2, "hands_componentsr": 2, "hands_meanl": 1,
                    "hands_meanr": 1, "lmk_faces_idx": 1, "lmk_bary_coords": 2}


@dataclass(frozen=True)
class SmplxModelFile:
    """The numeric members of a user's SMPL-X file, checked, and those left out.

    ``arrays``: member name -> array; ``ignored``: member name -> why it was not read;
    ``sha256``: of the file's bytes (names the numeric copy smplx loads).
    """

    path: Path
    arrays: dict[str, np.ndarray]
    ignored: dict[str, str]
    sha256: str


def read_smplx_model_file(path: str | Path) -> SmplxModelFile:
    """Read an SMPL-X ``.npz`` without ever unpickling, and check it is one.

    Every member is read by ``engine.motion.array_files`` (plain numeric arrays only);
    object members (pickled Python values, which could run code) are left out and named.
    Raises ``SmplxModelNotFound`` naming the file when a required array is missing or
    has the wrong shape.
    """
    path = Path(path)
    try:
        # One read: the digest names the copy smplx loads, so it must be of these bytes.
        raw = read_bounded(path, MAX_ARCHIVE_BYTES, "an SMPL-X file")
        arrays, ignored = read_npz(raw, path, skip_unreadable=True)
    except ProjectFileError as error:
        raise SmplxModelNotFound(f"{path}: not a readable SMPL-X .npz ({error.problem})") from None
    for key, ndim in REQUIRED_MEMBERS.items():
        if key not in arrays:
            why = f" ({ignored[key]})" if key in ignored else ""
            raise SmplxModelNotFound(f"{path}: not an SMPL-X model file (no numeric '{key}' "
                                     f"array{why})")
        if arrays[key].ndim != ndim or arrays[key].dtype.kind not in "biuf":
            raise SmplxModelNotFound(f"{path}: '{key}' is {arrays[key].dtype} with "
                                     f"{arrays[key].ndim} dimensions, expected {ndim} of numbers")
    if arrays["J_regressor"].shape[0] != 55:
        raise SmplxModelNotFound(f"{path}: J_regressor has {arrays['J_regressor'].shape[0]} "
                                 "joints, expected 55 (is this an SMPL or SMPL+H file?)")
    return SmplxModelFile(path, arrays, ignored, hashlib.sha256(raw).hexdigest())


def numeric_copy(model: SmplxModelFile) -> Path:
    """A copy of ``model``'s numeric members in the user cache, for smplx to load.

    smplx opens model files with numpy's pickling switched on and has no way to take
    arrays instead of a path, so it is given a file we wrote ourselves from checked numeric
    arrays: nothing in it can be unpickled. Named by the original's sha256, so an edited or
    replaced file gets a fresh copy.
    """
    from engine.settings import user_cache_dir

    target = user_cache_dir() / "smplx" / f"{model.path.stem}-{model.sha256[:32]}.npz"
    if target.is_file():
        try:  # cheap insurance: smplx will unpickle whatever the cache holds
            read_npz(target)
        except ProjectFileError:
            target.unlink()
    if not target.is_file():
        with atomic_output(target) as temp:
            with open(temp, "wb") as handle:  # a handle: savez would append ".npz" to a name
                np.savez(handle, **model.arrays)
    return target


class SmplxBody(SmplxSkeleton):
    """BodyModel over SMPL-X (see the module docstring)."""

    def __init__(self, folder: str | Path | None = None, gender: str = "neutral"):
        self.model_file = find_smplx_model_file(folder, gender)
        self.gender = gender
        checked = read_smplx_model_file(self.model_file)
        #: Members of the user's file that were not loaded, with why (the official files
        #: carry two pickled dicts, ``joint2num`` and ``part2num``, nobody needs).
        self.ignored_members = checked.ignored
        self._loadable_file = numeric_copy(checked)
        del checked
        self.name = f"SMPL-X ({gender})"
        #: smplx models per (betas, expression) size, and face maps per ("face", size).
        self._models: dict[tuple, object] = {}
        rest = self._model(10, 10)
        self._faces = np.asarray(rest.faces, dtype=np.int32)
        self._faces.setflags(write=False)
        self._template_rest_joints = self._rest_joints_for(np.zeros(10, np.float32))

    def _model(self, num_betas: int, num_expression: int):
        """One smplx.SMPLX per (betas, expression) size, built on first use."""
        key = (num_betas, num_expression)
        if key not in self._models:
            import smplx  # lazy: torch and smplx load only when SMPL-X is used

            try:
                self._models[key] = smplx.SMPLX(
                    model_path=str(self._loadable_file), gender=self.gender, use_pca=False,
                    flat_hand_mean=True, num_betas=num_betas,
                    num_expression_coeffs=num_expression, use_face_contour=False,
                )
            except (KeyError, ValueError, OSError, AttributeError) as error:
                raise SmplxModelNotFound(
                    f"{self.model_file}: not a usable SMPL-X model file ({error})") from error
        return self._models[key]

    def _rest_joints_for(self, betas: np.ndarray) -> np.ndarray:
        import torch

        model = self._model(len(betas), 10)
        with torch.no_grad():
            shaped = model.v_template + torch.einsum(
                "vcb,b->vc", model.shapedirs, torch.tensor(betas, dtype=torch.float32))
            joints = model.J_regressor @ shaped
        return joints.numpy().astype(np.float32)

    @property
    def faces(self) -> np.ndarray:
        return self._faces

    @property
    def num_vertices(self) -> int:
        return int(self._model(10, 10).v_template.shape[0])

    @property
    def rest_joints(self) -> np.ndarray:
        """(55, 3) rest joints for zero betas."""
        return self._template_rest_joints

    def face_retarget(self, expression_dims: int):
        """The ``FaceRetarget`` from the default avatar's ARKit shapes to this model's
        jaw and first ``expression_dims`` expression coefficients (made once per size)."""
        key = ("face", expression_dims)
        if key not in self._models:
            from engine.body.default_avatar import default_avatar
            from engine.body.smplx_face import retarget_face

            model = self._model(10, expression_dims)
            avatar = default_avatar()
            vertex_ids, deltas = avatar.blendshapes
            self._models[key] = retarget_face(
                model.v_template.numpy(), model.lbs_weights.numpy(), self._template_rest_joints,
                model.expr_dirs.numpy(), avatar.rest_vertices, avatar.skin_weights,
                avatar.rest_joints, vertex_ids, deltas)
        return self._models[key]

    def with_face(self, motion: Motion) -> Motion:
        """``motion`` with its ARKit face weights folded into ``expression`` and
        ``jaw_pose``: the SMPL-X parameters that show the same face on this model."""
        if not motion.face_blendshapes.any():
            return motion
        return self.face_retarget(motion.expression_dims).apply(motion)

    def forward(self, motion: Motion, frames: slice | np.ndarray | None = None) -> BodyOutput:
        import torch

        frames = slice(None) if frames is None else frames
        model = self._model(len(motion.betas), motion.expression_dims)
        # The face folds into the jaw and expression of the frames asked for only: the
        # viewport poses one frame of a long motion at a time.
        weights = motion.face_blendshapes[frames]
        expression, jaw = motion.expression[frames], motion.jaw_pose[frames]
        if weights.any():
            expression, jaw = self.face_retarget(motion.expression_dims).fold(
                weights, expression, jaw)
        full_pose = np.array(motion.full_pose()[frames], np.float32)
        full_pose[:, JOINT_INDEX["jaw"]] = jaw
        posed = {name: array[frames] for name, array in motion.frame_arrays().items()}
        posed.update(expression=expression, jaw_pose=jaw)

        def tensor(name: str, width: int) -> torch.Tensor:
            # A copy: torch warns on (and must never write into) our read-only arrays.
            return torch.from_numpy(np.array(posed[name], np.float32).reshape(-1, width))

        count = len(full_pose)
        with torch.no_grad():
            output = model(
                betas=torch.as_tensor(motion.betas.copy())[None].expand(count, -1),
                global_orient=tensor("global_orient", 3),
                body_pose=tensor("body_pose", 63),
                left_hand_pose=tensor("left_hand_pose", 45),
                right_hand_pose=tensor("right_hand_pose", 45),
                jaw_pose=tensor("jaw_pose", 3),
                leye_pose=tensor("leye_pose", 3),
                reye_pose=tensor("reye_pose", 3),
                expression=tensor("expression", motion.expression_dims),
                transl=tensor("transl", 3),
                return_verts=True,
            )
        # Joint frames come from our own FK on SMPL-X's shaped rest joints; the tests
        # check that its positions equal smplx's, so both paths agree.
        rest_joints = self._rest_joints_for(motion.betas)
        rotations, _ = forward_kinematics(full_pose, rest_joints, PARENTS)
        return BodyOutput(
            vertices=output.vertices.numpy().astype(np.float32),
            joints=output.joints[:, :55].numpy().astype(np.float32),
            joint_rotations=rotations,
        )
