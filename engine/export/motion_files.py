"""Motion files: SMPL-X ``.npz`` (AMASS-style), Meshcapade ``.smpl``, BVH and ``.pose``.

``write_motion_file(motion, path, body=None)`` and ``read_motion_file(path)`` pick the
format from the file's extension (the registry in ``engine.io``). Every write goes
through ``atomic_output``: a failed write leaves no file (and an old file untouched).
Every read error is a ``ProjectFileError`` naming the file and, where there is one, the
key or line at fault.

SMPL-X ``.npz``, AMASS-style (``write_npz`` / ``read_npz``)
    The keys AMASS's SMPL-X release uses, so AMASS tooling (and smplcodec's
    ``from_amass_npz``) reads our files:

    ======================  ============  ============================================
    key                     shape         meaning
    ======================  ============  ============================================
    ``poses``               (F, 165)      full pose, SMPL-X joint order: root_orient 3,
                                          pose_body 63, pose_jaw 3, pose_eye 6 (left,
                                          right), pose_hand 90 (left 45, right 45);
                                          axis-angle radians
    ``root_orient``         (F, 3)        = poses[:, 0:3]
    ``pose_body``           (F, 63)       = poses[:, 3:66]
    ``pose_jaw``            (F, 3)        = poses[:, 66:69]
    ``pose_eye``            (F, 6)        = poses[:, 69:75]
    ``pose_hand``           (F, 90)       = poses[:, 75:165]
    ``trans``               (F, 3)        root translation, metres
    ``betas``               (B,)          shape coefficients; ``num_betas`` = B
    ``mocap_frame_rate``    ()            frames per second
    ``mocap_time_length``   ()            F / fps, seconds
    ``gender``              ()            "neutral"
    ``surface_model_type``  ()            "smplx"
    ======================  ============  ============================================

    plus our extras, so our own round trip is lossless: ``expression`` (F, E),
    ``face_blendshapes`` (F, 52) in [0, 1], ``face_blendshape_names`` (52,) ARKit names,
    ``signstudio_npz_version`` (). Written for an SMPL-X body, ``pose_jaw`` and
    ``expression`` also carry the ARKit face in SMPL-X's terms, and
    ``signstudio_pose_jaw`` (F, 3) and ``signstudio_expression`` (F, E) keep the
    motion's own; our reader prefers those, so another tool that edits ``pose_jaw`` or
    ``expression`` of such a file should drop them. Strings are numpy unicode arrays, never pickles: the
    file loads with ``allow_pickle=False``, and so do we. Reading accepts real AMASS
    files without our extras (face zeros, expression zeros) and SMPL-H ones (``poses``
    (F, 156): no jaw or eyes), and ``mocap_framerate`` (AMASS's SMPL-H spelling).

Meshcapade ``.smpl`` (``write_smpl`` / ``read_smpl``), through the ``smplcodec`` package
    SMPL-X version, neutral gender; ``bodyPose`` (F, 22, 3) is the pelvis then the 21
    body joints, ``headPose`` (F, 3, 3) jaw, left eye, right eye, hand poses (F, 15, 3),
    ``bodyTranslation``, ``shapeParameters``, ``expressionParameters``, ``frameRate``.
    The format has no place for ARKit face blendshapes: written for an SMPL-X body they
    go into the jaw and expression; they read back as zeros.

BVH: see ``engine.export.bvh``. ``.pose`` (write only): see ``engine.export.pose_file``;
a ``.pose`` is keypoints, turned back into a Motion by the lexicon's fitting, not here.
"""
from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np

from engine.atomic import atomic_output
from engine.body.skeleton import JOINT_INDEX
from engine.motion.array_files import MAX_ARCHIVE_BYTES, read_bounded, read_npz_arrays
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.face import FACE_BLENDSHAPE_INDEX, FACE_BLENDSHAPE_NAMES
from engine.motion.motion import MAX_FPS, MIN_FPS, NUM_BODY_JOINTS, NUM_HAND_JOINTS, Motion

NPZ_FORMAT_VERSION = 1
NUM_POSE_VALUES = 165  # 55 joints x 3
NUM_SMPLH_POSE_VALUES = 156  # 52 joints x 3 (no jaw, no eyes)

def _supported(kinds, mode: str) -> str:
    from engine.io.formats import formats

    return ", ".join(f"{f.suffix} ({f.description})" for f in formats(kinds, mode))


# --- dispatch (through the file-format registry, engine.io) -------------------------

def write_motion_file(motion: Motion, path: str | Path, body=None) -> Path:
    """Write ``motion`` to ``path`` in the motion or keypoint format its extension names.

    ``body`` (a BodyModel, default: the default avatar) gives the BVH skeleton and the
    geometry the .pose keypoints are projected from; on SMPL-X, ``.npz`` and ``.smpl``
    also carry the face in its jaw and expression (``on_smplx``); glTF ignores it.
    Raises ``ValueError`` for an unknown extension, listing the supported ones.
    """
    from engine.io import Kind, UnknownFormat, format_for

    path = Path(path)
    kinds = (Kind.MOTION, Kind.KEYPOINTS)
    try:
        fmt = format_for(path, kinds, "write")
    except UnknownFormat:
        raise ValueError(f"{path}: cannot write motion files ending in "
                         f"{path.suffix.lower() or '(no extension)'!r}; supported: "
                         f"{_supported(kinds, 'write')}") from None
    return fmt.write_with(motion, path, body=body)


def read_motion_file(path: str | Path) -> Motion:
    """Read a Motion from ``path``, by its extension (the registry's motion formats).

    Raises ``ProjectFileError`` for a missing, unreadable or malformed file, or for an
    extension we cannot read (``.pose`` included: keypoints need fitting, see
    ``engine.data``).
    """
    from engine.io import Kind, UnknownFormat, format_for

    path = Path(path)
    try:
        fmt = format_for(path, Kind.MOTION, "read")
    except UnknownFormat:
        ext = path.suffix.lower()
        hint = (" (.pose files hold keypoints: import them through the lexicon's fitting)"
                if ext == ".pose" else "")
        raise ProjectFileError(path, f"cannot read motion files ending in "
                               f"{ext or '(no extension)'!r}{hint}; supported: "
                               f"{_supported(Kind.MOTION, 'read')}") from None
    return fmt.read(path)


def import_motion_file(path: str | Path, *, progress=None, cancel=None) -> Motion:
    """Any motion file we read, ``.pose`` included: its keypoints are fitted to SMPL-X
    on the default avatar (``engine.data.fit``; seconds, with progress and cancel).
    Other formats go to ``read_motion_file`` unchanged."""
    path = Path(path)
    if path.suffix.lower() != ".pose":
        return read_motion_file(path)
    from engine.data.fit import fit_keypoints
    from engine.data.pose_reader import read_pose_file

    return fit_keypoints(read_pose_file(path), progress=progress, cancel=cancel).motion


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise ProjectFileError(path, "file not found")
    if not path.is_file():
        raise ProjectFileError(path, "not a file")
    if path.stat().st_size == 0:
        raise ProjectFileError(path, "the file is empty (0 bytes)")


def _motion_or_file_error(path: Path, build) -> Motion:
    """Run ``build()``; a MotionError (bad shapes, NaN...) becomes a ProjectFileError."""
    try:
        return build()
    except MotionError as exc:
        raise ProjectFileError(path, f"invalid motion data: {exc}") from exc


# --- SMPL-X .npz (AMASS-style) ------------------------------------------------------

def on_smplx(motion: Motion, body=None) -> Motion:
    """``motion`` as SMPL-X parameters alone: with an SMPL-X ``body``, its ARKit face
    folded into ``jaw_pose`` and ``expression`` (``SmplxBody.with_face``), so tools that
    know only SMPL-X show the face; otherwise ``motion`` (that needs the licensed model's
    expression space)."""
    from engine.body.smplx_model import SmplxBody

    return body.with_face(motion) if isinstance(body, SmplxBody) else motion


def npz_arrays(motion: Motion, body=None) -> dict[str, np.ndarray]:
    """The arrays ``write_npz`` stores (see the module docstring for keys and shapes)."""
    smplx = on_smplx(motion, body)
    arrays = _npz_arrays(smplx)
    if smplx is not motion:
        # pose_jaw and expression now carry the face for SMPL-X tools; our reader takes
        # the motion's own channels back from these, so our round trip stays lossless.
        arrays["signstudio_pose_jaw"] = motion.jaw_pose
        arrays["signstudio_expression"] = motion.expression
    return arrays


def _npz_arrays(motion: Motion) -> dict[str, np.ndarray]:
    f = motion.num_frames
    poses = motion.full_pose().reshape(f, NUM_POSE_VALUES)
    return {
        "poses": poses,
        "root_orient": poses[:, 0:3],
        "pose_body": poses[:, 3:66],
        "pose_jaw": poses[:, 66:69],
        "pose_eye": poses[:, 69:75],
        "pose_hand": poses[:, 75:165],
        "trans": motion.transl,
        "betas": motion.betas,
        "num_betas": np.array(motion.betas.shape[0], np.int64),
        "mocap_frame_rate": np.array(motion.fps, np.float64),
        "mocap_time_length": np.array(motion.duration, np.float64),
        "gender": np.array("neutral"),
        "surface_model_type": np.array("smplx"),
        "expression": motion.expression,
        "face_blendshapes": motion.face_blendshapes,
        "face_blendshape_names": np.array(FACE_BLENDSHAPE_NAMES),
        "signstudio_npz_version": np.array(NPZ_FORMAT_VERSION, np.int64),
    }


def write_npz(motion: Motion, path: str | Path, body=None) -> Path:
    """Write an AMASS-style SMPL-X ``.npz`` (compressed), atomically; with an SMPL-X
    ``body`` the face is also written as SMPL-X's own parameters (``on_smplx``)."""
    path = Path(path)
    arrays = npz_arrays(motion, body)
    with atomic_output(path) as temp:
        with open(temp, "wb") as handle:  # a handle: savez would append ".npz" to a name
            np.savez_compressed(handle, **arrays)
    return path


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, checked and loaded eagerly so truncation shows here."""
    _check_readable(path)
    return read_npz_arrays(path)


def _get(data: dict, path: Path, key: str, shape: tuple[int | None, ...],
         num_frames: int | None = None) -> np.ndarray:
    """``data[key]`` checked: floating or integer numbers of the given shape (None = any
    length; a leading None is the frame count and must equal ``num_frames``)."""
    if key not in data:
        raise ProjectFileError(path, f"missing key {key!r}")
    value = data[key]
    if value.dtype.kind not in "fiu":
        raise ProjectFileError(path, f"key {key!r}: expected numbers, got dtype {value.dtype}")
    want = tuple(num_frames if (i == 0 and d is None and num_frames is not None) else d
                 for i, d in enumerate(shape))
    ok = value.ndim == len(want) and all(w is None or w == g for w, g in zip(want, value.shape))
    if not ok:
        per_frame = num_frames is not None or key in ("poses", "root_orient", "trans")
        text = "(" + ", ".join("F" if (i == 0 and d is None and per_frame) else
                               ("N" if d is None else str(d))
                               for i, d in enumerate(shape)) + ("," if len(shape) == 1 else "") + ")"
        frames = f" with F={num_frames}" if num_frames is not None else ""
        raise ProjectFileError(path, f"key {key!r}: expected shape {text}{frames}, "
                               f"got {tuple(value.shape)}")
    return value.astype(np.float32) if value.dtype.kind == "f" else value


def _scalar(data: dict, path: Path, *keys: str) -> float:
    """The first of ``keys`` present, as a float; error naming them all when none is."""
    for key in keys:
        if key in data:
            value = data[key]
            if value.dtype.kind not in "fiu" or value.size != 1:
                raise ProjectFileError(path, f"key {key!r}: expected one number, got "
                                       f"{value.dtype} of shape {value.shape}")
            return float(value.reshape(()))
    raise ProjectFileError(path, f"missing key {keys[0]!r}" +
                           (f" (or {', '.join(map(repr, keys[1:]))})" if len(keys) > 1 else ""))


def _full_pose_from_npz(data: dict, path: Path) -> np.ndarray:
    """(F, 55, 3) from ``poses`` (SMPL-X 165 or SMPL-H 156), else from the split keys."""
    if "poses" in data:
        poses = _get(data, path, "poses", (None, None))
        f, width = poses.shape
        if width == NUM_POSE_VALUES:
            return poses.reshape(f, 55, 3)
        if width == NUM_SMPLH_POSE_VALUES:  # SMPL-H: 22 body joints then 30 hand joints
            full = np.zeros((f, 55, 3), np.float32)
            smplh = poses.reshape(f, 52, 3)
            full[:, :22] = smplh[:, :22]
            full[:, 25:] = smplh[:, 22:]
            return full
        raise ProjectFileError(path, f"key 'poses': expected shape (F, {NUM_POSE_VALUES}) "
                               f"(SMPL-X) or (F, {NUM_SMPLH_POSE_VALUES}) (SMPL-H), got {poses.shape}")
    root = _get(data, path, "root_orient", (None, 3))
    f = root.shape[0]
    body = _get(data, path, "pose_body", (None, 3 * NUM_BODY_JOINTS), f)
    parts = [root, body]
    for key, width in (("pose_jaw", 3), ("pose_eye", 6), ("pose_hand", 6 * NUM_HAND_JOINTS)):
        parts.append(_get(data, path, key, (None, width), f) if key in data
                     else np.zeros((f, width), np.float32))
    return np.concatenate(parts, axis=1).reshape(f, 55, 3)


def _blendshapes_from_npz(data: dict, path: Path, num_frames: int) -> np.ndarray:
    """(F, 52) in our ARKit order, matched by name when the file names its columns."""
    out = np.zeros((num_frames, len(FACE_BLENDSHAPE_NAMES)), np.float32)
    if "face_blendshapes" not in data:
        return out
    names_key = "face_blendshape_names"
    if names_key not in data:
        return _get(data, path, "face_blendshapes", (None, len(FACE_BLENDSHAPE_NAMES)), num_frames)
    names = data[names_key]
    if names.dtype.kind != "U" or names.ndim != 1:
        raise ProjectFileError(path, f"key {names_key!r}: expected (N,) strings, got "
                               f"{names.dtype} of shape {names.shape}")
    weights = _get(data, path, "face_blendshapes", (None, names.shape[0]), num_frames)
    unknown = [str(n) for n in names if str(n) not in FACE_BLENDSHAPE_INDEX]
    if unknown:
        raise ProjectFileError(path, f"key {names_key!r}: unknown ARKit blendshape name(s) "
                               f"{unknown[:5]}")
    out[:, [FACE_BLENDSHAPE_INDEX[str(n)] for n in names]] = weights
    return out


def read_npz(path: str | Path) -> Motion:
    """Read an AMASS-style SMPL-X ``.npz`` (ours or AMASS's) into a Motion."""
    path = Path(path)
    data = _load_npz(path)
    full_pose = _full_pose_from_npz(data, path)
    f = full_pose.shape[0]
    if f < 1:
        raise ProjectFileError(path, "key 'poses': holds no frames")
    transl = _get(data, path, "trans", (None, 3), f)
    fps = _scalar(data, path, "mocap_frame_rate", "mocap_framerate")
    if not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise ProjectFileError(path, f"key 'mocap_frame_rate': expected {MIN_FPS:g} to "
                               f"{MAX_FPS:g} frames per second, got {fps}")
    betas = (_get(data, path, "betas", (None,)) if "betas" in data
             else np.zeros(10, np.float32))
    if betas.dtype.kind != "f":
        betas = betas.astype(np.float32)
    expression = (_get(data, path, "expression", (None, None), f) if "expression" in data
                  else np.zeros((f, 10), np.float32))
    if "signstudio_expression" in data:  # written for an SMPL-X body: see npz_arrays
        expression = _get(data, path, "signstudio_expression", (None, None), f)
        full_pose = full_pose.copy()
        full_pose[:, JOINT_INDEX["jaw"]] = _get(data, path, "signstudio_pose_jaw", (None, 3), f)
    blendshapes = _blendshapes_from_npz(data, path, f)

    def build() -> Motion:
        motion = Motion.zeros(f, fps=fps, expression_dims=expression.shape[1])
        return motion.with_full_pose(full_pose).replace(
            transl=transl, betas=betas, expression=expression, face_blendshapes=blendshapes)

    return _motion_or_file_error(path, build)


# --- Meshcapade .smpl ---------------------------------------------------------------

def smpl_codec(motion: Motion, body=None):
    """The ``smplcodec.SMPLCodec`` holding ``motion`` (validated by smplcodec itself);
    with an SMPL-X ``body`` the face is folded into jaw and expression (``on_smplx``)."""
    from smplcodec import SMPLCodec, SMPLGender, SMPLVersion  # lazy: only .smpl users

    motion = on_smplx(motion, body)
    full = motion.full_pose()
    f = motion.num_frames
    return SMPLCodec(
        smpl_version=SMPLVersion.SMPLX,
        gender=SMPLGender.NEUTRAL,
        shape_parameters=motion.betas.astype(np.float32),
        frame_count=int(f),
        frame_rate=float(motion.fps),
        body_translation=np.array(motion.transl),
        body_pose=np.array(full[:, :22]),
        head_pose=np.array(full[:, 22:25]),
        left_hand_pose=np.array(full[:, 25:40]),
        right_hand_pose=np.array(full[:, 40:55]),
        expression_parameters=np.array(motion.expression) if motion.expression_dims else None,
    )


def write_smpl(motion: Motion, path: str | Path, body=None) -> Path:
    """Write a Meshcapade ``.smpl`` file with smplcodec, atomically.

    Face blendshapes are not part of the format: with an SMPL-X ``body`` the face goes
    into its jaw and expression parameters; otherwise it is not written.
    """
    path = Path(path)
    codec = smpl_codec(motion, body)
    with atomic_output(path) as temp:
        codec.write(temp)
    return path


def read_smpl(path: str | Path) -> Motion:
    """Read a Meshcapade ``.smpl`` (SMPL-X or SMPL-H) into a Motion.

    Uses smplcodec's reader and validation; SMPL-H files have no jaw or eyes (zeros).
    Face blendshapes read as zeros (the format has none).
    """
    from smplcodec import SMPLCodec, SMPLVersion

    path = Path(path)
    _check_readable(path)
    # Our reader checks every member first (numeric arrays only, sizes bounded), then
    # smplcodec parses the same bytes, so what it sees is what we checked.
    raw = read_bounded(path, MAX_ARCHIVE_BYTES, "a .smpl file")
    read_npz_arrays(raw, path)
    try:
        codec = SMPLCodec.from_file(io.BytesIO(raw))
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ProjectFileError(path, f"not a readable .smpl archive (truncated or corrupt): "
                               f"{type(exc).__name__}: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # smplcodec reports bad shapes/versions as TypeError("Failed to validate ...")
        # and unknown keys as TypeError from the dataclass constructor.
        raise ProjectFileError(path, f"not a valid .smpl file: {exc}") from exc
    if codec.smpl_version not in (SMPLVersion.SMPLX, SMPLVersion.SMPLH):
        raise ProjectFileError(path, f"key 'smplVersion': {codec.smpl_version.name} files are "
                               "not on the SMPL-X skeleton; expected SMPLX (or SMPLH)")
    if not codec.frame_count:
        raise ProjectFileError(path, "key 'frameCount': the file holds a body shape but no "
                               "motion (no frames)")
    f = int(codec.frame_count)
    fps = float(codec.frame_rate) if codec.frame_rate is not None else 30.0
    if not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise ProjectFileError(path, f"key 'frameRate': expected {MIN_FPS:g} to {MAX_FPS:g} "
                               f"frames per second, got {fps}")
    pose = np.asarray(codec.full_pose, np.float32)
    if codec.smpl_version == SMPLVersion.SMPLH:  # 22 body + 30 hand joints
        full = np.zeros((f, 55, 3), np.float32)
        full[:, :22], full[:, 25:] = pose[:, :22], pose[:, 22:]
        pose = full
    transl = (np.zeros((f, 3), np.float32) if codec.body_translation is None
              else np.asarray(codec.body_translation, np.float32))
    betas = (np.zeros(10, np.float32) if codec.shape_parameters is None
             else np.asarray(codec.shape_parameters, np.float32))
    expression = (np.zeros((f, 10), np.float32) if codec.expression_parameters is None
                  else np.asarray(codec.expression_parameters, np.float32))
    if expression.ndim != 2 or expression.shape[0] != f:
        raise ProjectFileError(path, f"key 'expressionParameters': expected shape (F, E) with "
                               f"F={f}, got {expression.shape}")

    def build() -> Motion:
        motion = Motion.zeros(f, fps=fps, expression_dims=expression.shape[1])
        return motion.with_full_pose(pose).replace(transl=transl, betas=betas,
                                                   expression=expression)

    return _motion_or_file_error(path, build)
