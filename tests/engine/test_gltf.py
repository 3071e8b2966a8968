"""glTF 2.0 (.glb) export: the Khronos validator accepts it, and the file's own node
hierarchy, skin and morph targets reproduce the default avatar's joints and vertices.

The checks below parse the .glb with a small reader written here (not the module's own
``read_glb``), so a bug shared by writer and reader cannot hide.
"""
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.body import default_avatar
from engine.body.reference_poses import reference_poses
from engine.body.skeleton import JOINT_NAMES, PARENTS
from engine.export.gltf import read_glb_animation, write_glb
from engine.jobs import Cancelled, CancelToken
from engine.motion import Motion
from engine.motion.errors import ProjectFileError
from engine.motion.face import FACE_BLENDSHAPE_NAMES
from engine.motion.interpolate import chain
from tests.conftest import random_motion

REPO = Path(__file__).resolve().parents[2]
VALIDATOR_SCRIPT = REPO / "tests" / "tools" / "validate_gltf.mjs"
#: Where the test set-up installs the validator:
#: npm install --prefix .cache/npm gltf-validator
NPM_MODULES = REPO / ".cache" / "npm" / "node_modules"
TOL = 1e-4  # metres


# ------------------------------------------------------------------ an independent reader
def parse_glb(path):
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert (magic, version, length) == (0x46546C67, 2, len(data))
    json_len, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_len % 4 == 0
    document = json.loads(data[20:20 + json_len])
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + json_len)
    assert bin_type == 0x004E4942 and bin_len % 4 == 0
    return document, data[28 + json_len:28 + json_len + bin_len]


def accessor(document, binary, index):
    """(count, components) float64; dense tightly packed views, or sparse over zeros."""
    acc = document["accessors"][index]
    dtype = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}[
        acc["componentType"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc["type"]]
    out = np.zeros((acc["count"], width))
    if "bufferView" in acc:
        view = document["bufferViews"][acc["bufferView"]]
        assert "byteStride" not in view
        out[:] = np.frombuffer(binary, dtype, acc["count"] * width,
                               view["byteOffset"] + acc.get("byteOffset", 0)).reshape(-1, width)
    if "sparse" in acc:
        sparse = acc["sparse"]
        ids_dtype = {5123: np.uint16, 5125: np.uint32}[sparse["indices"]["componentType"]]
        ids = np.frombuffer(binary, ids_dtype, sparse["count"],
                            document["bufferViews"][sparse["indices"]["bufferView"]]["byteOffset"])
        values_view = document["bufferViews"][sparse["values"]["bufferView"]]
        values = np.frombuffer(binary, dtype, sparse["count"] * width, values_view["byteOffset"])
        out[ids.astype(int)] = values.reshape(-1, width)
    return out


def animation_tracks(document, binary):
    """{(node, path): (times (K,), values (K, C))} of the first animation."""
    animation = document["animations"][0]
    tracks = {}
    for channel in animation["channels"]:
        sampler = animation["samplers"][channel["sampler"]]
        assert sampler["interpolation"] == "LINEAR"
        times = accessor(document, binary, sampler["input"])[:, 0]
        values = accessor(document, binary, sampler["output"]).reshape(len(times), -1)
        target = channel["target"]
        tracks[(target["node"], target["path"])] = (times, values)
    return tracks


def world_transforms(document, tracks, key):
    """(num_nodes, 4, 4) world matrices at animation key ``key`` from the node TRS."""
    nodes = document["nodes"]
    local = []
    for i, node in enumerate(nodes):
        t = node.get("translation", [0, 0, 0])
        q = node.get("rotation", [0, 0, 0, 1])
        if (i, "translation") in tracks:
            t = tracks[(i, "translation")][1][key]
        if (i, "rotation") in tracks:
            q = tracks[(i, "rotation")][1][key]
        s = np.array(node.get("scale", [1, 1, 1]))
        m = np.eye(4)
        m[:3, :3] = Rotation.from_quat(q).as_matrix() * s
        m[:3, 3] = t
        local.append(m)
    world = [None] * len(nodes)

    def visit(i, parent):
        world[i] = parent @ local[i]
        for child in nodes[i].get("children", []):
            visit(child, world[i])

    for root in document["scenes"][document.get("scene", 0)]["nodes"]:
        visit(root, np.eye(4))
    return np.stack(world)


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def motion():
    """Random rotations on every joint (fingers, jaw, eyes), translation and face."""
    rng = np.random.default_rng(7)
    return random_motion(rng, num_frames=9, fps=24.0, scale=0.5)


@pytest.fixture(scope="module")
def glb(motion, tmp_path_factory):
    path = tmp_path_factory.mktemp("gltf") / "motion.glb"
    write_glb(motion, path)
    return path


@pytest.fixture(scope="module")
def parsed(glb):
    document, binary = parse_glb(glb)
    return document, binary, animation_tracks(document, binary)


def _validator_environment():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the set-up installs nodejs and runs "
                    "`npm install --prefix .cache/npm gltf-validator`")
    env = dict(os.environ)
    env["NODE_PATH"] = os.pathsep.join(
        p for p in (str(NPM_MODULES), env.get("NODE_PATH", "")) if p)
    probe = subprocess.run([node, "-e", "require.resolve('gltf-validator')"], env=env,
                           capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("npm package gltf-validator is missing; install it with "
                    "`npm install --prefix .cache/npm gltf-validator`")
    return node, env


def validate(path):
    node, env = _validator_environment()
    result = subprocess.run([node, str(VALIDATOR_SCRIPT), str(path)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --------------------------------------------------------------------------------- tests
def test_khronos_validator_reports_no_errors_or_warnings(glb):
    report = validate(glb)
    issues = report["issues"]
    assert issues["numErrors"] == 0, issues["messages"]
    assert issues["numWarnings"] == 0, issues["messages"]
    info = report["info"]
    assert info["hasSkins"] and info["hasMorphTargets"] and info["animationCount"] == 1
    assert info["maxInfluences"] == 4
    assert info["totalTriangleCount"] == len(default_avatar().faces)


def test_validator_catches_a_broken_file(glb, tmp_path):
    """The harness can fail: a wrong POSITION max is an error the validator reports."""
    document, binary = parse_glb(glb)
    position = document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    document["accessors"][position]["max"][1] += 0.5
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    broken = tmp_path / "broken.glb"
    total = 12 + 8 + len(text) + 8 + len(binary)
    broken.write_bytes(struct.pack("<III", 0x46546C67, 2, total)
                       + struct.pack("<II", len(text), 0x4E4F534A) + text
                       + struct.pack("<II", len(binary), 0x004E4942) + binary)
    report = validate(broken)
    codes = {m["code"] for m in report["issues"]["messages"]}
    assert report["issues"]["numErrors"] >= 1 and "ACCESSOR_MAX_MISMATCH" in codes


def test_skeleton_skin_and_morph_targets(parsed):
    document, binary, _ = parsed
    skin = document["skins"][0]
    joints = skin["joints"]
    assert len(joints) == 55
    names = [document["nodes"][j]["name"] for j in joints]
    assert names == list(JOINT_NAMES)
    parent_of = {c: i for i, n in enumerate(document["nodes"]) for c in n.get("children", [])}
    assert [names.index(document["nodes"][parent_of[j]]["name"]) if j in parent_of else -1
            for j in joints] == list(PARENTS)
    rest = default_avatar().rest_joints
    bind = accessor(document, binary, skin["inverseBindMatrices"]).reshape(55, 4, 4)
    bind = bind.transpose(0, 2, 1)  # column-major in the file
    np.testing.assert_allclose(bind[:, :3, :3], np.broadcast_to(np.eye(3), (55, 3, 3)))
    np.testing.assert_allclose(bind[:, :3, 3], -rest, atol=1e-7)
    mesh = document["meshes"][0]
    assert mesh["extras"]["targetNames"] == list(FACE_BLENDSHAPE_NAMES)
    for primitive in mesh["primitives"]:
        assert len(primitive["targets"]) == 52
        assert {"POSITION", "NORMAL", "JOINTS_0", "WEIGHTS_0"} <= set(primitive["attributes"])
    # The rest mesh is the avatar's, untouched (metres, Y up, +Z forward).
    position = mesh["primitives"][0]["attributes"]["POSITION"]
    np.testing.assert_array_equal(accessor(document, binary, position),
                                  default_avatar().rest_vertices)


def test_animation_duration_and_channels(parsed, motion):
    document, _, tracks = parsed
    animation = document["animations"][0]
    times = {tuple(t) for t, _ in tracks.values()}
    assert len(times) == 1
    (times,) = times
    assert max(times) == pytest.approx(motion.num_frames / motion.fps, abs=1e-6)
    np.testing.assert_allclose(times[:motion.num_frames],
                               np.arange(motion.num_frames) / motion.fps, atol=1e-6)
    rotated = {node for node, path in tracks if path == "rotation"}
    assert rotated == set(range(55))  # every joint, fingers included
    assert (0, "translation") in tracks
    assert sum(path == "weights" for _, path in tracks) == 1
    assert animation["extras"] == {"fps": motion.fps, "frames": motion.num_frames}


@pytest.mark.parametrize("frame", [0, 4, 8])
def test_node_hierarchy_reproduces_the_avatar_joints(parsed, motion, frame):
    document, _, tracks = parsed
    world = world_transforms(document, tracks, frame)
    expected = default_avatar().forward(motion).joints[frame]
    np.testing.assert_allclose(world[:55, :3, 3], expected, atol=TOL)


def test_skin_and_morphs_reproduce_the_avatar_vertices(parsed, motion):
    """glTF skinning (joint world x inverse bind, 4 influences, morphs first) == our LBS."""
    document, binary, tracks = parsed
    frame = 5
    world = world_transforms(document, tracks, frame)
    skin = document["skins"][0]
    bind = accessor(document, binary, skin["inverseBindMatrices"]).reshape(55, 4, 4)
    joint_matrices = world[skin["joints"]] @ bind.transpose(0, 2, 1)
    primitive = document["meshes"][0]["primitives"][0]
    attributes = primitive["attributes"]
    positions = accessor(document, binary, attributes["POSITION"])
    weights_track = next(v for (n, p), v in tracks.items() if p == "weights")[1]
    morph_weights = weights_track[frame]
    for weight, target in zip(morph_weights, primitive["targets"]):
        positions = positions + weight * accessor(document, binary, target["POSITION"])
    joints = accessor(document, binary, attributes["JOINTS_0"]).astype(int)
    weights = accessor(document, binary, attributes["WEIGHTS_0"])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    homogeneous = np.concatenate([positions, np.ones((len(positions), 1))], axis=1)
    skinned = np.einsum("vk,vkab,vb->va", weights, joint_matrices[joints], homogeneous)[:, :3]
    expected = default_avatar().forward(motion).vertices[frame]
    np.testing.assert_allclose(skinned, expected, atol=TOL)


def test_morph_weights_equal_face_blendshapes(parsed, motion):
    _, _, tracks = parsed
    weights = next(v for (n, p), v in tracks.items() if p == "weights")[1]
    np.testing.assert_array_equal(weights[:motion.num_frames], motion.face_blendshapes)
    np.testing.assert_array_equal(weights[-1], motion.face_blendshapes[-1])  # held key


def test_read_back_round_trip(glb, motion):
    back = read_glb_animation(glb)
    assert back.num_frames == motion.num_frames and back.fps == motion.fps
    np.testing.assert_allclose(Rotation.from_rotvec(back.full_pose().reshape(-1, 3)).as_matrix(),
                               Rotation.from_rotvec(motion.full_pose().reshape(-1, 3)).as_matrix(),
                               atol=1e-6)
    np.testing.assert_allclose(back.transl, motion.transl, atol=1e-6)
    np.testing.assert_array_equal(back.face_blendshapes, motion.face_blendshapes)
    # Not carried by glTF: SMPL-X expression coefficients and betas come back as zeros.
    assert not back.expression.any() and not back.betas.any()


@pytest.mark.slow
def test_reference_pose_chain_validates_and_round_trips(tmp_path):
    """A real sign-like motion (hands change shape) and a single-frame motion."""
    poses = list(reference_poses().values())
    motion = chain(poses, hold_frames=2, transition_frames=3)
    path = write_glb(motion, tmp_path / "chain.glb")
    back = read_glb_animation(path)
    np.testing.assert_allclose(default_avatar().forward(back).joints,
                               default_avatar().forward(motion).joints, atol=TOL)
    single = write_glb(Motion.zeros(1, fps=30), tmp_path / "single.glb")
    assert read_glb_animation(single).num_frames == 1
    for written in (path, single):
        assert validate(written)["issues"]["numErrors"] == 0


def test_cancel_and_failure_leave_no_partial_file(tmp_path, motion):
    path = tmp_path / "out.glb"
    path.write_bytes(b"the user's previous file")
    token = CancelToken()
    calls = []

    def progress(done, total, message=""):
        calls.append((done, total))
        if done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        write_glb(motion, path, progress=progress, cancel=token)
    assert path.read_bytes() == b"the user's previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.glb"]
    assert calls[0] == (0, 3)
    done = []
    write_glb(motion, path, progress=lambda d, t, m="": done.append(d))
    assert done[-1] == 3 and path.read_bytes()[:4] == b"glTF"


def test_bad_files_give_errors_naming_the_file(tmp_path, glb):
    not_glb = tmp_path / "not.glb"
    not_glb.write_bytes(b"hello world, not a glb at all")
    with pytest.raises(ProjectFileError, match="not.glb.*does not start with 'glTF'"):
        read_glb_animation(not_glb)
    truncated = tmp_path / "truncated.glb"
    truncated.write_bytes(glb.read_bytes()[:50_000])
    with pytest.raises(ProjectFileError, match="truncated.glb.*truncated"):
        read_glb_animation(truncated)
    with pytest.raises(ProjectFileError, match="missing.glb.*file not found"):
        read_glb_animation(tmp_path / "missing.glb")

    def rewritten(name, edit):
        document, binary = parse_glb(glb)
        edit(document)
        text = json.dumps(document).encode()
        text += b" " * (-len(text) % 4)
        path = tmp_path / name
        path.write_bytes(struct.pack("<III", 0x46546C67, 2, 28 + len(text) + len(binary))
                         + struct.pack("<II", len(text), 0x4E4F534A) + text
                         + struct.pack("<II", len(binary), 0x004E4942) + binary)
        return path

    # Well-formed glTF files that are not ours or lack what we read.
    renamed = rewritten("other.glb", lambda d: d["nodes"][3].update(name="Spine"))
    with pytest.raises(ProjectFileError, match="other.glb.*SMPL-X joint nodes.*spine1"):
        read_glb_animation(renamed)
    still = rewritten("still.glb", lambda d: d.pop("animations"))
    with pytest.raises(ProjectFileError, match="still.glb.*no animation"):
        read_glb_animation(still)
    broken = rewritten("broken.glb", lambda d: d["animations"][0]["samplers"][0].update(input=9999))
    with pytest.raises(ProjectFileError, match="broken.glb.*accessor 9999"):
        read_glb_animation(broken)
