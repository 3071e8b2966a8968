"""glTF 2.0 binary (``.glb``) export of a Motion on the skinned default avatar.

What the file holds (glTF's own frame is Y up, models facing +Z, metres: the same as
SMPL-X and the avatar, so nothing is converted):

- one mesh: the avatar's rest vertices, normals, triangles split into one primitive per
  look (``engine.body.appearance``: skin, eye white, iris, pupil, brows, lips, mouth,
  top, trousers, shoes) so each gets its own plain material (every viewer honours
  materials; not all honour vertex colours). The primitives share the vertex
  accessors. ``JOINTS_0``/``WEIGHTS_0`` are the avatar's 4 skin influences.
- 52 morph targets, the ARKit face blendshapes in ``engine.motion.face`` order, as
  sparse POSITION deltas (only ~3.5k of the 13.7k vertices move), named in
  ``mesh.extras.targetNames`` (what Blender and three.js read).
- a skin over 55 joint nodes named after the SMPL-X joints, nested as ``PARENTS``; node
  translation = rest offset from the parent; rest rotations are identity (the avatar's
  T-pose has world-aligned joint frames), so ``inverseBindMatrices`` are
  ``translate(-rest_joint)`` and glTF skinning equals ``engine.body.lbs`` exactly.
- one animation "motion": a rotation channel for every joint (fingers, jaw and eyes
  included; quaternions x, y, z, w from the axis-angles), the pelvis translation
  (rest pelvis + ``transl``) and the morph weights (``face_blendshapes``), all LINEAR.
  Frame k is keyed at k / fps, and the last frame is keyed once more at F / fps so the
  clip lasts ``Motion.duration`` (each frame shown for 1 / fps, as in our video export).
  ``animation.extras`` records ``fps`` and ``frames`` for reading back.

Not carried: SMPL-X ``expression`` coefficients and ``betas`` (the default avatar does
not play them; the face is in the morph weights).

The binary is written with numpy and json: the format is a 12-byte header, a JSON chunk
and a BIN chunk, each padded to 4 bytes (glTF 2.0 spec, "Binary glTF Layout").
"""
from __future__ import annotations

import json
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.assets import asset_path
from engine.atomic import atomic_output
from engine.body.default_avatar import DEFAULT_AVATAR_FILE, default_avatar
from engine.body.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from engine.body.appearance import Look, look_colours
from engine.export.render import saved_clothing, vertex_normals
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.face import FACE_BLENDSHAPE_INDEX, FACE_BLENDSHAPE_NAMES
from engine.motion.motion import Motion
from engine.motion.rotations import axis_angle_to_quat, continuous_quaternions, quat_to_axis_angle

GLB_MAGIC = 0x46546C67  # b"glTF"
CHUNK_JSON = 0x4E4F534A  # b"JSON"
CHUNK_BIN = 0x004E4942  # b"BIN\0"

# Accessor component types and buffer-view targets (glTF 2.0 enums).
_BYTE, _UNSIGNED_BYTE, _UNSIGNED_SHORT, _UNSIGNED_INT, _FLOAT = 5120, 5121, 5123, 5125, 5126
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_COMPONENT_TYPES = {np.dtype(np.uint8): _UNSIGNED_BYTE, np.dtype(np.uint16): _UNSIGNED_SHORT,
                    np.dtype(np.uint32): _UNSIGNED_INT, np.dtype(np.float32): _FLOAT}
_NUMPY_TYPES = {_BYTE: np.int8, _UNSIGNED_BYTE: np.uint8, 5122: np.int16,
                _UNSIGNED_SHORT: np.uint16, _UNSIGNED_INT: np.uint32, _FLOAT: np.float32}
_TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_TYPE_BY_WIDTH = {1: "SCALAR", 3: "VEC3", 4: "VEC4", 16: "MAT4"}

#: Names of the primitives / materials per ``engine.body.appearance.Look`` value.
_REGION_NAMES = tuple(look.name.lower() for look in Look)
ANIMATION_NAME = "motion"
MESH_NODE_NAME = "avatar"


def _srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """0..255 sRGB -> 0..1 linear (glTF's baseColorFactor is linear)."""
    c = np.asarray(srgb, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


class _BinaryBuilder:
    """Collects buffer views and accessors over one BIN chunk, 4-byte aligned."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._length = 0
        self.buffer_views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def view(self, data: bytes, target: int | None = None) -> int:
        # Every view starts on a 4-byte boundary: enough for any component type here,
        # and vertex attributes must be 4-byte aligned anyway.
        padding = -self._length % 4
        if padding:
            self._parts.append(b"\0" * padding)
            self._length += padding
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self._length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self._parts.append(data)
        self._length += len(data)
        self.buffer_views.append(view)
        return len(self.buffer_views) - 1

    def accessor(self, array: np.ndarray, *, target: int | None = None, bounds: bool = False,
                 normalized: bool = False, type_: str | None = None) -> int:
        """Add a dense accessor for ``array`` (N,) or (N, C); ``bounds`` writes min/max."""
        array = np.ascontiguousarray(array)
        width = 1 if array.ndim == 1 else int(np.prod(array.shape[1:]))
        accessor: dict[str, Any] = {
            "bufferView": self.view(array.tobytes(), target),
            "componentType": _COMPONENT_TYPES[array.dtype],
            "count": int(array.shape[0]),
            "type": type_ or _TYPE_BY_WIDTH[width],
        }
        if normalized:
            accessor["normalized"] = True
        if bounds:
            flat = array.reshape(len(array), -1)
            accessor["min"] = _json_numbers(flat.min(axis=0))
            accessor["max"] = _json_numbers(flat.max(axis=0))
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def sparse_vec3(self, count: int, ids: np.ndarray, values: np.ndarray) -> int:
        """A VEC3 float accessor of ``count`` zeros with ``values`` (N, 3) at ``ids``.

        No bufferView: the base is all zeros, which the spec allows for sparse accessors.
        POSITION morph targets still need min/max, over the zeros too.
        """
        accessor: dict[str, Any] = {"componentType": _FLOAT, "count": int(count), "type": "VEC3"}
        if len(ids):
            values = np.ascontiguousarray(values, np.float32)
            index_type = np.uint16 if count <= 0xFFFF else np.uint32
            accessor["sparse"] = {
                "count": int(len(ids)),
                "indices": {"bufferView": self.view(ids.astype(index_type).tobytes()),
                            "componentType": _COMPONENT_TYPES[np.dtype(index_type)]},
                "values": {"bufferView": self.view(values.tobytes())},
            }
            low = np.minimum(values.min(axis=0), 0) if len(ids) < count else values.min(axis=0)
            high = np.maximum(values.max(axis=0), 0) if len(ids) < count else values.max(axis=0)
        else:
            low = high = np.zeros(3, np.float32)
        accessor["min"], accessor["max"] = _json_numbers(low), _json_numbers(high)
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def binary(self) -> bytes:
        return b"".join(self._parts)


def _json_numbers(values: np.ndarray) -> list[float | int]:
    """Exact JSON numbers for float32/int values (a float32 is exact as a double)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return [float(v) for v in values.astype(np.float32)]
    return [int(v) for v in values]


@lru_cache(maxsize=1)
def _avatar_arrays() -> dict[str, Any]:
    """The static, motion-independent arrays of the avatar mesh (computed once).

    positions/normals (V, 3) float32 metres; joints (V, 4) uint8; weights (V, 4) float32;
    region_triangles: list of (region, (T, 3) uint16 or uint32); morphs: list of
    (vertex ids (N,), deltas (N, 3) metres) in FACE_BLENDSHAPE_NAMES order;
    rest_joints (55, 3) float32.
    """
    avatar = default_avatar()
    # The 4-influence skin as baked (the avatar itself only keeps a dense (V, 55) copy).
    with np.load(asset_path(DEFAULT_AVATAR_FILE), allow_pickle=False) as data:
        joints = data["skin_joints"].astype(np.uint8)
        weights = data["skin_weights"].astype(np.float64)
        shape_names = [str(n) for n in data["blendshape_names"]]
        shape_ids = data["blendshape_vertex_ids"].astype(np.int64)
        shape_deltas = data["blendshape_deltas"].astype(np.float32)
    weights = np.clip(weights, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    weights = weights.astype(np.float32)
    # A zero-weight influence gets joint 0, as the validator expects
    # (ACCESSOR_JOINTS_USED_ZERO_WEIGHT) and as exporters conventionally do.
    joints[weights == 0] = 0

    positions = np.ascontiguousarray(avatar.rest_vertices, np.float32)
    normals = vertex_normals(positions.astype(np.float64), np.asarray(avatar.faces, np.int64))
    # Renormalised in float64 then rounded, so the float32 normals pass the unit check.
    normals = (normals / np.linalg.norm(normals, axis=1, keepdims=True)).astype(np.float32)

    faces = np.asarray(avatar.faces)
    index_type = np.uint16 if len(positions) <= 0xFFFF else np.uint32
    # A triangle's look is the one two of its corners share (else its first corner's):
    # the brows', lips' and clothing's edges cut through triangles.
    corners = avatar.look_regions[faces]
    face_region = np.where(corners[:, 1] == corners[:, 2], corners[:, 1], corners[:, 0])
    region_triangles = [(int(r), faces[face_region == r].astype(index_type))
                        for r in np.unique(face_region)]

    morphs = []
    source_index = {name: i for i, name in enumerate(shape_names)}
    for name in FACE_BLENDSHAPE_NAMES:
        if name not in source_index:
            morphs.append((np.zeros(0, np.int64), np.zeros((0, 3), np.float32)))
            continue
        deltas = shape_deltas[source_index[name]]
        moving = np.any(deltas != 0, axis=1)  # sparse: keep only vertices this shape moves
        morphs.append((shape_ids[moving], deltas[moving]))
    for array in (positions, normals, joints, weights):
        array.setflags(write=False)  # cached and shared between exports
    return {"positions": positions, "normals": normals, "joints": joints, "weights": weights,
            "region_triangles": region_triangles, "morphs": morphs,
            "rest_joints": np.asarray(avatar.rest_joints, np.float32)}


def _build(motion: Motion) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON document and BIN chunk for ``motion`` (see the module docstring)."""
    avatar = _avatar_arrays()
    rest_joints = avatar["rest_joints"]
    builder = _BinaryBuilder()

    # ------------------------------------------------------------------ mesh
    attributes = {
        "POSITION": builder.accessor(avatar["positions"], target=_ARRAY_BUFFER, bounds=True),
        "NORMAL": builder.accessor(avatar["normals"], target=_ARRAY_BUFFER),
        "JOINTS_0": builder.accessor(avatar["joints"], target=_ARRAY_BUFFER),
        "WEIGHTS_0": builder.accessor(avatar["weights"], target=_ARRAY_BUFFER),
    }
    num_vertices = len(avatar["positions"])
    targets = [{"POSITION": builder.sparse_vec3(num_vertices, ids, deltas)}
               for ids, deltas in avatar["morphs"]]
    materials, primitives = [], []
    for region, triangles in avatar["region_triangles"]:
        colour = _srgb_to_linear(look_colours(*saved_clothing())[region])
        materials.append({
            "name": _REGION_NAMES[region] if region < len(_REGION_NAMES) else f"region{region}",
            "pbrMetallicRoughness": {"baseColorFactor": [*map(float, colour), 1.0],
                                     "metallicFactor": 0.0, "roughnessFactor": 0.8},
        })
        primitives.append({
            "attributes": attributes,
            "indices": builder.accessor(triangles.reshape(-1), target=_ELEMENT_ARRAY_BUFFER),
            "material": len(materials) - 1,
            "mode": 4,  # triangles
            "targets": targets,
        })
    mesh = {"name": MESH_NODE_NAME, "primitives": primitives,
            "weights": [0.0] * len(targets),
            "extras": {"targetNames": list(FACE_BLENDSHAPE_NAMES)}}

    # ------------------------------------------------------------------ skeleton
    offsets = rest_joints - rest_joints[np.maximum(PARENTS, 0)]
    offsets[0] = rest_joints[0]
    nodes: list[dict[str, Any]] = []
    for j, name in enumerate(JOINT_NAMES):
        node: dict[str, Any] = {"name": name, "translation": _json_numbers(offsets[j])}
        children = [int(c) for c in np.flatnonzero(PARENTS == j)]
        if children:
            node["children"] = children
        nodes.append(node)
    mesh_node = len(nodes)
    nodes.append({"name": MESH_NODE_NAME, "mesh": 0, "skin": 0})
    inverse_bind = np.tile(np.eye(4, dtype=np.float32), (NUM_JOINTS, 1, 1))
    inverse_bind[:, :3, 3] = -rest_joints
    # glTF matrices are column-major: the transpose of numpy's row-major layout.
    skin = {"name": "smplx", "joints": list(range(NUM_JOINTS)), "skeleton": 0,
            "inverseBindMatrices": builder.accessor(
                inverse_bind.transpose(0, 2, 1).reshape(NUM_JOINTS, 16))}

    # ------------------------------------------------------------------ animation
    num_frames = motion.num_frames
    last = np.r_[np.arange(num_frames), num_frames - 1]  # last frame held to F / fps
    times = (np.arange(num_frames + 1, dtype=np.float64) / motion.fps).astype(np.float32)
    time_accessor = builder.accessor(times, bounds=True)
    # A player slerps between the stored keys: without continuous signs it can swing
    # the long way round between two frames.
    quats = continuous_quaternions(axis_angle_to_quat(motion.full_pose()))  # (F, 55, 4)
    quats = (quats / np.linalg.norm(quats, axis=-1, keepdims=True)).astype(np.float32)[last]
    samplers, channels = [], []

    def channel(node: int, path: str, values: np.ndarray) -> None:
        samplers.append({"input": time_accessor, "interpolation": "LINEAR",
                         "output": builder.accessor(values.astype(np.float32))})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": node, "path": path}})

    for j in range(NUM_JOINTS):
        channel(j, "rotation", quats[:, j])
    channel(0, "translation", (rest_joints[0] + motion.transl)[last])
    # Morph weights: one scalar accessor of (keys * targets) values, key-major.
    weights = np.ascontiguousarray(motion.face_blendshapes[last], np.float32)
    samplers.append({"input": time_accessor, "interpolation": "LINEAR",
                     "output": builder.accessor(weights.reshape(-1), type_="SCALAR")})
    channels.append({"sampler": len(samplers) - 1,
                     "target": {"node": mesh_node, "path": "weights"}})
    animation = {"name": ANIMATION_NAME, "samplers": samplers, "channels": channels,
                 "extras": {"fps": motion.fps, "frames": num_frames}}

    binary = builder.binary()
    document = {
        "asset": {"version": "2.0", "generator": "Sign Studio (engine/export/gltf.py)"},
        "scene": 0,
        "scenes": [{"name": "Sign Studio", "nodes": [0, mesh_node]}],
        "nodes": nodes,
        "meshes": [mesh],
        "materials": materials,
        "skins": [skin],
        "animations": [animation],
        "accessors": builder.accessors,
        "bufferViews": builder.buffer_views,
        "buffers": [{"byteLength": len(binary)}],
    }
    return document, binary


def _glb_bytes(document: dict[str, Any], binary: bytes) -> bytes:
    json_chunk = json.dumps(document, separators=(",", ":")).encode("utf-8")
    json_chunk += b" " * (-len(json_chunk) % 4)  # the spec pads JSON with spaces
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(json_chunk) + 8 + len(binary)
    return b"".join([
        struct.pack("<III", GLB_MAGIC, 2, total),
        struct.pack("<II", len(json_chunk), CHUNK_JSON), json_chunk,
        struct.pack("<II", len(binary), CHUNK_BIN), binary,
    ])


def write_glb(motion: Motion, path: str | Path, *, progress: Progress | None = None,
              cancel: CancelToken | None = None) -> Path:
    """Write ``motion`` on the skinned default avatar as a glTF 2.0 binary file.

    motion: any Motion (F frames at ``motion.fps``); its rotations, ``transl`` and
    ``face_blendshapes`` are animated, ``expression`` and ``betas`` are not carried.
    The write is atomic: on an error or ``Cancelled`` no partial file is left and an
    existing ``path`` is untouched. Returns ``path``. Size: about 1.5 MB for the mesh
    plus about 1.1 kB per frame.
    """
    progress = progress or no_progress
    path = Path(path)
    steps = 3
    progress(0, steps, "preparing the avatar mesh")
    _avatar_arrays()
    if cancel is not None:
        cancel.raise_if_cancelled()
    progress(1, steps, f"converting {motion.num_frames} frames")
    document, binary = _build(motion)
    if cancel is not None:
        cancel.raise_if_cancelled()
    progress(2, steps, f"writing {path.name}")
    data = _glb_bytes(document, binary)
    with atomic_output(path) as temp:
        temp.write_bytes(data)
        if cancel is not None:
            cancel.raise_if_cancelled()
    progress(3, steps, "done")
    return path


# ---------------------------------------------------------------------- reading back
def read_glb(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """Parse a ``.glb`` into its JSON document and BIN chunk (b"" when absent).

    Raises ProjectFileError naming the file for a wrong magic, version or a truncated
    or malformed chunk.
    """
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(path, "file not found" if not path.exists() else "not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ProjectFileError(path, f"cannot read the file ({error.strerror or error})") from error
    if len(data) < 20:
        raise ProjectFileError(path, f"not a glTF binary: {len(data)} bytes, expected a "
                                     "12-byte header and a JSON chunk")
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC:
        raise ProjectFileError(path, "not a glTF binary: the file does not start with 'glTF'")
    if version != 2:
        raise ProjectFileError(path, f"glTF container version {version}, expected 2")
    if length != len(data):
        raise ProjectFileError(path, f"truncated or padded: the header says {length} bytes, "
                                     f"the file has {len(data)}")
    chunks: list[tuple[int, bytes]] = []
    offset = 12
    while offset < length:
        if offset + 8 > length:
            raise ProjectFileError(path, f"chunk header at byte {offset} is cut off")
        size, kind = struct.unpack_from("<II", data, offset)
        if offset + 8 + size > length:
            raise ProjectFileError(path, f"chunk at byte {offset} claims {size} bytes, "
                                         f"only {length - offset - 8} remain")
        chunks.append((kind, data[offset + 8: offset + 8 + size]))
        offset += 8 + size
    if not chunks or chunks[0][0] != CHUNK_JSON:
        raise ProjectFileError(path, "the first chunk is not the JSON chunk")
    try:
        document = json.loads(chunks[0][1].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectFileError(path, f"the JSON chunk is not valid JSON ({error})") from error
    except RecursionError:
        raise ProjectFileError(path, "the JSON chunk is nested too deeply") from None
    if not isinstance(document, dict):
        raise ProjectFileError(path, "the JSON chunk is not a glTF object")
    binary = chunks[1][1] if len(chunks) > 1 and chunks[1][0] == CHUNK_BIN else b""
    return document, binary


def _read_accessor(path: Path, document: dict[str, Any], binary: bytes, index: int) -> np.ndarray:
    """Accessor ``index`` as a float array (count, components); dense or sparse."""
    try:
        accessor = document["accessors"][index]
        dtype = np.dtype(_NUMPY_TYPES[accessor["componentType"]]).newbyteorder("<")
        width = _TYPE_SIZES[accessor["type"]]
        count = int(accessor["count"])
        out = np.zeros((count, width), np.float64)
        if "bufferView" in accessor:
            view = document["bufferViews"][accessor["bufferView"]]
            start = int(view.get("byteOffset", 0)) + int(accessor.get("byteOffset", 0))
            stride = int(view.get("byteStride", 0)) or dtype.itemsize * width
            end = int(view.get("byteOffset", 0)) + int(view["byteLength"])
            need = start + stride * (count - 1) + dtype.itemsize * width if count else start
            if need > min(end, len(binary)):
                raise ProjectFileError(path, f"accessor {index} reads past its buffer view "
                                             "(truncated binary chunk?)")
            raw = np.frombuffer(binary, np.uint8, need - start, start)
            rows = np.lib.stride_tricks.as_strided(
                raw, (count, dtype.itemsize * width), (stride, 1)) if count else raw[:0]
            out[:] = np.ascontiguousarray(rows).view(dtype).reshape(count, width)
        if "sparse" in accessor:
            sparse = accessor["sparse"]
            n = int(sparse["count"])
            ids_view = document["bufferViews"][sparse["indices"]["bufferView"]]
            id_type = np.dtype(_NUMPY_TYPES[sparse["indices"]["componentType"]]).newbyteorder("<")
            ids = np.frombuffer(binary, id_type, n, int(ids_view.get("byteOffset", 0))
                                + int(sparse["indices"].get("byteOffset", 0)))
            values_view = document["bufferViews"][sparse["values"]["bufferView"]]
            values = np.frombuffer(binary, dtype, n * width, int(values_view.get("byteOffset", 0))
                                   + int(sparse["values"].get("byteOffset", 0)))
            out[ids.astype(np.int64)] = values.reshape(n, width)
    except ProjectFileError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ProjectFileError(path, f"accessor {index} is malformed or points outside the "
                                     f"binary chunk ({type(error).__name__}: {error})") from error
    return out


def read_glb_animation(path: str | Path) -> Motion:
    """Read the animation of a ``.glb`` written by ``write_glb`` back into a Motion.

    Needs joint nodes named after the 55 SMPL-X joints and keys at k / fps (the fps comes
    from ``animation.extras.fps``, or from the key spacing when absent). Rotations,
    pelvis translation (minus the node's rest translation) and the morph weights named
    in ``mesh.extras.targetNames`` are read; ``expression`` and ``betas`` come back as
    zeros. Raises ProjectFileError naming the file and what is missing.
    """
    path = Path(path)
    document, binary = read_glb(path)
    try:
        return _motion_from_document(path, document, binary)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, ProjectFileError):
            raise
        raise ProjectFileError(path, f"malformed glTF structure ({type(error).__name__}: "
                                     f"{error})") from error


def _motion_from_document(path: Path, document: dict[str, Any], binary: bytes) -> Motion:
    nodes = document.get("nodes", [])
    node_of = {node.get("name"): i for i, node in enumerate(nodes)}
    missing = [name for name in JOINT_NAMES if name not in node_of]
    if missing:
        raise ProjectFileError(path, f"nodes: expected the 55 SMPL-X joint nodes, missing "
                                     f"{len(missing)} (first: {missing[0]!r})")
    animations = document.get("animations") or []
    if not animations:
        raise ProjectFileError(path, "animations: the file holds no animation")
    animation = next((a for a in animations if a.get("name") == ANIMATION_NAME), animations[0])
    extras = animation.get("extras") or {}

    def sampled(channel: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        try:
            sampler = animation["samplers"][channel["sampler"]]
        except (KeyError, IndexError, TypeError) as error:
            raise ProjectFileError(path, f"animation channel {channel!r} has no valid "
                                         "sampler") from error
        times = _read_accessor(path, document, binary, sampler["input"])[:, 0]
        values = _read_accessor(path, document, binary, sampler["output"])
        if sampler.get("interpolation") == "CUBICSPLINE":  # (in-tangent, value, out-tangent)
            values = values.reshape(len(times), 3, -1)[:, 1]
        return times, values.reshape(len(times), -1)

    tracks: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    for channel in animation.get("channels", []):
        target = channel.get("target", {})
        if "node" in target:
            tracks[(int(target["node"]), target.get("path", ""))] = sampled(channel)
    if not tracks:
        raise ProjectFileError(path, "animation has no channels targeting nodes")
    any_times = next(iter(tracks.values()))[0]
    if "fps" in extras:
        fps = float(extras["fps"])
    elif len(any_times) > 1:
        fps = 1.0 / float(np.median(np.diff(any_times)))
    else:
        fps = 30.0
    if "frames" in extras:
        num_frames = int(extras["frames"])
    else:
        num_frames = int(round(float(max(t[-1] for t, _ in tracks.values())) * fps)) + 1
    if num_frames < 1 or not np.isfinite(fps) or fps <= 0:
        raise ProjectFileError(path, f"animation: expected fps > 0 and frames >= 1, got "
                                     f"fps={fps}, frames={num_frames}")

    def per_frame(track: tuple[np.ndarray, np.ndarray], what: str) -> np.ndarray:
        times, values = track
        keys = np.rint(times * fps).astype(np.int64)
        if np.abs(times * fps - keys).max(initial=0) > 1e-3:
            raise ProjectFileError(path, f"{what}: keys are not at whole frames of {fps:g} fps; "
                                         "only files written by Sign Studio can be read back")
        out = np.full((num_frames, values.shape[1]), np.nan)
        inside = keys < num_frames
        out[keys[inside]] = values[inside]
        if np.isnan(out).any():
            first = int(np.argwhere(np.isnan(out))[0, 0])
            raise ProjectFileError(path, f"{what}: no key at frame {first} of {num_frames}")
        return out

    quats = np.zeros((num_frames, NUM_JOINTS, 4))
    for j, name in enumerate(JOINT_NAMES):
        node = node_of[name]
        track = tracks.get((node, "rotation"))
        if track is None:
            quats[:, j] = nodes[node].get("rotation", [0.0, 0.0, 0.0, 1.0])
        else:
            quats[:, j] = per_frame(track, f"rotation of node {name!r}")
    if not np.all(np.linalg.norm(quats, axis=-1) > 1e-6):
        raise ProjectFileError(path, "animation: a joint rotation quaternion is zero")
    full_pose = quat_to_axis_angle(quats).astype(np.float32)

    pelvis = node_of[JOINT_NAMES[0]]
    rest = np.asarray(nodes[pelvis].get("translation", [0.0, 0.0, 0.0]), np.float64)
    track = tracks.get((pelvis, "translation"))
    transl = (per_frame(track, "pelvis translation") - rest if track is not None
              else np.zeros((num_frames, 3)))

    blendshapes = np.zeros((num_frames, len(FACE_BLENDSHAPE_NAMES)))
    for (node, kind), track in tracks.items():
        if kind != "weights" or "mesh" not in nodes[node]:
            continue
        mesh = document["meshes"][nodes[node]["mesh"]]
        names = (mesh.get("extras") or {}).get("targetNames", [])
        weights = per_frame(track, f"morph weights of node {nodes[node].get('name', node)!r}")
        for k, name in enumerate(names):
            if name in FACE_BLENDSHAPE_INDEX and k < weights.shape[1]:
                blendshapes[:, FACE_BLENDSHAPE_INDEX[name]] = weights[:, k]
    try:
        base = Motion.zeros(num_frames, fps=fps)
        return base.with_full_pose(full_pose).replace(
            transl=transl.astype(np.float32), face_blendshapes=blendshapes.astype(np.float32))
    except MotionError as error:
        raise ProjectFileError(path, f"animation does not make a valid Motion: {error}") from error
