"""Motion files: SMPL-X .npz (AMASS-style), .smpl, BVH, .pose; checked by independent
readers (smplcodec, pybvh, pose-format) and by reading them back."""
import errno
import importlib
import io
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.body.default_avatar import default_avatar
from engine.body.reference_poses import reference_poses
from engine.body.skeleton import JOINT_INDEX, JOINT_NAMES
from engine.body.tips import LEAF_JOINTS, leaf_tip_vertices
from engine.export import bvh as bvh_module
from engine.export.bvh import read_bvh, write_bvh
from engine.export.motion_files import (
    read_motion_file, read_npz, read_smpl, write_motion_file, write_npz, write_smpl,
)
from engine.io import Kind, suffixes
from engine.motion import Motion, ProjectFileError
from engine.motion.face import FACE_BLENDSHAPE_NAMES
from tests.conftest import random_motion


def _rotations_close(a: Motion, b: Motion, atol: float = 1e-5) -> float:
    """Max difference of the joint rotation MATRICES (axis-angle is not unique)."""
    ma = Rotation.from_rotvec(a.full_pose().reshape(-1, 3).astype(np.float64)).as_matrix()
    mb = Rotation.from_rotvec(b.full_pose().reshape(-1, 3).astype(np.float64)).as_matrix()
    err = float(np.abs(ma - mb).max())
    assert err < atol, err
    return err


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def signing(rng):
    """A random motion with a wandering root, wide rotations (up to ~130 degrees)."""
    motion = random_motion(rng, num_frames=15, fps=30.0, scale=1.3)
    transl = np.cumsum(rng.normal(0, 0.02, (15, 3)), axis=0).astype(np.float32)
    return motion.replace(transl=transl)


# --- SMPL-X .npz ----------------------------------------------------------------------

def test_npz_round_trip_is_exact(tmp_path, signing):
    path = write_motion_file(signing, tmp_path / "clip.npz")
    assert read_motion_file(path).equals(signing)


def test_npz_has_amass_smplx_keys(tmp_path, signing):
    write_npz(signing, tmp_path / "clip.npz")
    with np.load(tmp_path / "clip.npz", allow_pickle=False) as data:
        f = signing.num_frames
        assert data["poses"].shape == (f, 165)
        assert data["trans"].shape == (f, 3)
        assert str(data["surface_model_type"]) == "smplx"
        assert str(data["gender"]) == "neutral"
        assert float(data["mocap_frame_rate"]) == 30.0
        assert int(data["num_betas"]) == 10
        # The split keys are slices of `poses` in SMPL-X order.
        np.testing.assert_array_equal(data["root_orient"], signing.global_orient)
        np.testing.assert_array_equal(data["pose_body"], signing.body_pose.reshape(f, 63))
        np.testing.assert_array_equal(data["pose_jaw"], signing.jaw_pose)
        np.testing.assert_array_equal(
            data["pose_eye"], np.concatenate([signing.leye_pose, signing.reye_pose], 1))
        np.testing.assert_array_equal(
            data["pose_hand"],
            np.concatenate([signing.left_hand_pose.reshape(f, 45),
                            signing.right_hand_pose.reshape(f, 45)], 1))
        np.testing.assert_array_equal(data["poses"][:, 66:69], signing.jaw_pose)


def test_smplcodec_reads_our_npz_as_amass(tmp_path, signing):
    from smplcodec import SMPLCodec

    write_npz(signing, tmp_path / "clip.npz")
    codec = SMPLCodec.from_amass_npz(tmp_path / "clip.npz")
    codec.validate()
    np.testing.assert_allclose(codec.full_pose, signing.full_pose())
    assert codec.frame_rate == 30.0


def test_npz_reads_an_amass_file_without_our_extras(tmp_path, rng):
    f = 7
    poses = rng.uniform(-0.5, 0.5, (f, 165))  # AMASS stores float64
    trans = rng.normal(size=(f, 3))
    np.savez(tmp_path / "amass.npz", poses=poses, trans=trans, betas=rng.normal(size=16),
             mocap_frame_rate=np.array(120.0), gender=np.array("female"),
             surface_model_type=np.array("smplx"), num_betas=np.array(16))
    motion = read_npz(tmp_path / "amass.npz")
    assert motion.num_frames == f and motion.fps == 120.0 and motion.betas.shape == (16,)
    np.testing.assert_allclose(motion.full_pose(), poses.reshape(f, 55, 3), atol=1e-7)
    np.testing.assert_allclose(motion.left_hand_pose, poses[:, 75:120].reshape(f, 15, 3), atol=1e-7)
    np.testing.assert_allclose(motion.transl, trans, atol=1e-6)
    assert not motion.face_blendshapes.any() and not motion.expression.any()


def test_npz_split_keys_and_smplh_poses(tmp_path, rng):
    f = 4
    split = dict(root_orient=rng.normal(size=(f, 3)), pose_body=rng.normal(size=(f, 63)),
                 pose_hand=rng.normal(size=(f, 90)), trans=np.zeros((f, 3)),
                 mocap_framerate=np.array(60.0))
    np.savez(tmp_path / "split.npz", **split)
    motion = read_npz(tmp_path / "split.npz")
    np.testing.assert_allclose(motion.body_pose.reshape(f, 63), split["pose_body"], atol=1e-6)
    np.testing.assert_allclose(motion.right_hand_pose.reshape(f, 45), split["pose_hand"][:, 45:],
                               atol=1e-6)
    assert not motion.jaw_pose.any() and motion.fps == 60.0

    smplh = rng.normal(size=(f, 156))
    np.savez(tmp_path / "smplh.npz", poses=smplh, trans=np.zeros((f, 3)),
             mocap_framerate=np.array(60.0))
    motion = read_npz(tmp_path / "smplh.npz")
    np.testing.assert_allclose(motion.body_pose.reshape(f, 63), smplh[:, 3:66], atol=1e-6)
    np.testing.assert_allclose(motion.left_hand_pose.reshape(f, 45), smplh[:, 66:111], atol=1e-6)
    assert not motion.jaw_pose.any()


def test_npz_blendshapes_are_matched_by_name(tmp_path, signing):
    arrays = dict(np.load(write_npz(signing, tmp_path / "a.npz")))
    order = np.arange(len(FACE_BLENDSHAPE_NAMES))[::-1]  # another tool's column order
    arrays["face_blendshape_names"] = arrays["face_blendshape_names"][order]
    arrays["face_blendshapes"] = arrays["face_blendshapes"][:, order]
    np.savez(tmp_path / "b.npz", **arrays)
    assert read_npz(tmp_path / "b.npz").equals(signing)


def _npz_with(tmp_path, signing, **changes):
    arrays = dict(np.load(write_npz(signing, tmp_path / "good.npz")))
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


@pytest.mark.parametrize("changes, message", [
    (dict(trans=None), "missing key 'trans'"),
    (dict(poses=None, root_orient=None), "missing key 'root_orient'"),
    (dict(mocap_frame_rate=None), "missing key 'mocap_frame_rate'"),
    (dict(trans=np.zeros((3, 3))), r"key 'trans': expected shape \(F, 3\) with F=15"),
    (dict(poses=np.zeros((15, 99))), r"key 'poses': expected shape \(F, 165\)"),
    (dict(mocap_frame_rate=np.array(0.0)), "expected 1 to 1000 frames per second, got 0.0"),
    (dict(poses=np.full((15, 165), np.nan)), "NaN"),
    (dict(face_blendshape_names=np.array(["smile"] * 52)), "unknown ARKit blendshape"),
    (dict(face_blendshapes=np.full((15, 52), 2.0)), r"weights in \[0, 1\]"),
])
def test_npz_bad_content_names_the_key(tmp_path, signing, changes, message):
    path = _npz_with(tmp_path, signing, **changes)
    with pytest.raises(ProjectFileError, match=message) as info:
        read_npz(path)
    assert info.value.path == path


def test_npz_pickles_are_refused(tmp_path, signing):
    path = _npz_with(tmp_path, signing, gender=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ProjectFileError, match="pickled"):
        read_npz(path)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_npz_truncated(tmp_path, signing, keep):
    raw = write_npz(signing, tmp_path / "a.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ProjectFileError, match="cut.npz.*truncated or corrupt"):
        read_npz(tmp_path / "cut.npz")


def test_missing_empty_and_garbage_files(tmp_path):
    for ext in suffixes(Kind.MOTION, "read"):
        with pytest.raises(ProjectFileError, match="file not found"):
            read_motion_file(tmp_path / f"nothing{ext}")
        (tmp_path / f"empty{ext}").write_bytes(b"")
        with pytest.raises(ProjectFileError, match=f"empty{ext}"):
            read_motion_file(tmp_path / f"empty{ext}")
        (tmp_path / f"junk{ext}").write_bytes(b"\x00\x01garbage" * 50)
        with pytest.raises(ProjectFileError, match=f"junk{ext}"):
            read_motion_file(tmp_path / f"junk{ext}")


# --- Meshcapade .smpl -----------------------------------------------------------------

def test_smpl_round_trip_and_smplcodec_validates(tmp_path, signing):
    from smplcodec import SMPLCodec, SMPLVersion

    path = write_motion_file(signing, tmp_path / "clip.smpl")
    codec = SMPLCodec.from_file(path)  # smplcodec's own reader validates on load
    codec.validate()
    assert codec.smpl_version == SMPLVersion.SMPLX
    assert codec.body_pose.shape == (15, 22, 3)  # pelvis included
    assert codec.head_pose.shape == (15, 3, 3)
    assert codec.frame_count == 15 and codec.frame_rate == 30.0
    np.testing.assert_array_equal(codec.body_pose[:, 0], signing.global_orient)
    np.testing.assert_array_equal(codec.head_pose[:, 0], signing.jaw_pose)

    back = read_motion_file(path)
    # .smpl has no ARKit blendshapes: everything else is exact.
    assert back.equals(signing.replace(face_blendshapes=np.zeros_like(signing.face_blendshapes)))


def test_smpl_bad_files(tmp_path, signing):
    from smplcodec import SMPLCodec

    raw = write_smpl(signing, tmp_path / "a.smpl").read_bytes()
    (tmp_path / "cut.smpl").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ProjectFileError, match="cut.smpl.*truncated or corrupt"):
        read_smpl(tmp_path / "cut.smpl")

    arrays = dict(np.load(tmp_path / "a.smpl"))
    arrays["bodyPose"] = arrays["bodyPose"][:, :21]
    np.savez(tmp_path / "shape.smpl.npz", **arrays)
    (tmp_path / "shape.smpl.npz").rename(tmp_path / "shape.smpl")
    with pytest.raises(ProjectFileError, match=r"shape.smpl: not a valid .smpl file.*body_pose"):
        read_smpl(tmp_path / "shape.smpl")

    shape_only = SMPLCodec(shape_parameters=np.zeros(10))
    shape_only.write(tmp_path / "shape_only.smpl")
    with pytest.raises(ProjectFileError, match="frameCount"):
        read_smpl(tmp_path / "shape_only.smpl")


# --- BVH ------------------------------------------------------------------------------

def test_bvh_round_trip(tmp_path, signing):
    path = write_motion_file(signing, tmp_path / "clip.bvh")
    back = read_motion_file(path)
    assert back.num_frames == signing.num_frames and back.fps == signing.fps
    _rotations_close(back, signing, atol=1e-5)
    np.testing.assert_allclose(back.transl, signing.transl, atol=1e-6)
    assert not back.face_blendshapes.any()  # BVH carries no face


def test_bvh_layout_cm_channels_and_end_sites(tmp_path, signing):
    text = write_bvh(signing, tmp_path / "clip.bvh").read_text()
    assert text.startswith("HIERARCHY\nROOT pelvis\n")
    assert text.count("JOINT ") == 54 and text.count("End Site") == len(LEAF_JOINTS) == 15
    assert "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" in text
    assert text.count("CHANNELS 3 Zrotation Xrotation Yrotation") == 54
    assert "Frame Time: 0.03333333333333333\n" in text
    # Centimetres: the shin (knee -> ankle) of a 1.7 m avatar is ~40 cm.
    rest = default_avatar().rest_joints
    shin_cm = 100 * np.linalg.norm(rest[JOINT_INDEX["left_ankle"]] - rest[JOINT_INDEX["left_knee"]])
    assert 30 < shin_cm < 50
    assert f"OFFSET 0.000000 {-shin_cm:.6f} 0.000000" in text


def test_pybvh_forward_kinematics_reproduce_our_joints(tmp_path, signing):
    pybvh = pytest.importorskip("pybvh")
    avatar = default_avatar()
    write_bvh(signing, tmp_path / "clip.bvh")
    parsed = pybvh.read_bvh_file(tmp_path / "clip.bvh", world_up="+y")
    assert parsed.frame_count == signing.num_frames
    assert abs(parsed.fps - signing.fps) < 1e-9
    assert sorted(parsed.joint_names) == sorted(JOINT_NAMES)
    theirs = parsed.joint_positions() / 100.0  # cm -> m
    ours = avatar.forward(signing).joints
    order = [parsed.joint_index[name] for name in JOINT_NAMES]
    err = np.abs(theirs[:, order] - ours).max()
    assert err < 1e-3, f"pybvh FK differs from ours by {err * 1000:.3f} mm"

    # End sites: pybvh puts each at the posed fingertip / toe tip / eye vertex (with no
    # blendshapes: eyeLook* shapes move the eyeball vertices, not the skeleton).
    nodes = parsed.node_positions() / 100.0
    tips = leaf_tip_vertices(avatar)
    posed = avatar.forward(signing.replace(
        face_blendshapes=np.zeros_like(signing.face_blendshapes))).vertices
    for leaf in LEAF_JOINTS:
        if avatar.skin_weights[tips[leaf]].max() < 1.0:
            continue  # a blended vertex is not rigid with the joint (the chin)
        site = nodes[:, parsed.node_index["EndSite" + JOINT_NAMES[leaf]]]
        np.testing.assert_allclose(site, posed[:, tips[leaf]], atol=1e-3)


def test_bvh_fingertip_end_sites_continue_the_finger(tmp_path):
    text = write_bvh(Motion.zeros(1), tmp_path / "rest.bvh").read_text()
    block = text[text.index("JOINT left_index3"):]
    end = block[block.index("End Site"):].split("\n")[2].split()
    offset = np.array(end[1:], float)
    # Left fingers point along +X in the T-pose: the tip is 1.5-4 cm further out.
    assert 1.5 < offset[0] < 4 and abs(offset[1]) < 1 and abs(offset[2]) < 1


def test_bvh_reader_accepts_another_euler_order(tmp_path, signing):
    """Our reader follows each joint's CHANNELS order (here rewritten to XYZ)."""
    text = write_bvh(signing, tmp_path / "clip.bvh").read_text()
    head, motion = text.split("MOTION\n")
    head = head.replace("Zrotation Xrotation Yrotation", "Xrotation Yrotation Zrotation")
    lines = motion.splitlines()
    values = np.array([line.split() for line in lines[2:]], float)
    euler = Rotation.from_rotvec(signing.full_pose().reshape(-1, 3)).as_euler("XYZ", degrees=True)
    euler = euler.reshape(signing.num_frames, 55, 3)[:, list(bvh_module.BVH_JOINT_ORDER)]
    values[:, 3:] = euler.reshape(signing.num_frames, -1)
    body = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in values)
    (tmp_path / "xyz.bvh").write_text(head + "MOTION\n" + "\n".join(lines[:2]) + "\n" + body + "\n")
    _rotations_close(read_bvh(tmp_path / "xyz.bvh"), signing)


def _bvh_variant(tmp_path, motion, edit):
    text = write_bvh(motion, tmp_path / "good.bvh").read_text()
    (tmp_path / "bad.bvh").write_text(edit(text))
    return tmp_path / "bad.bvh"


@pytest.mark.parametrize("edit, message", [
    (lambda t: t[: t.index("MOTION") // 2], "no MOTION section"),
    (lambda t: t[: t.rindex("\n", 0, len(t) - 1)] + "\n", "declares 15 frames but holds 14"),
    (lambda t: t[: len(t) - 40] + "\n", r"frame 14: expected 168 values"),
    (lambda t: t.replace("JOINT left_wrist", "JOINT left_hand"), "missing joints.*left_wrist"),
    (lambda t: t.replace("Frame Time: 0.03333333333333333", "Frame Time: -1"), "Frame Time"),
    (lambda t: t.replace("CHANNELS 3 Zrotation Xrotation Yrotation",
                         "CHANNELS 3 Zrotation Xrotation Xrotation", 1),
     "three rotation channels"),
    (lambda t: t.replace("HIERARCHY", "HIERARCHIE"), "first line must be 'HIERARCHY'"),
    (lambda t: t.replace("OFFSET", "OFFSET x", 1), "line 4: expected a number"),
])
def test_bvh_bad_files_say_what_and_where(tmp_path, signing, edit, message):
    path = _bvh_variant(tmp_path, signing, edit)
    with pytest.raises(ProjectFileError, match=message) as info:
        read_bvh(path)
    assert info.value.path == path


# --- .pose ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pointing():
    """The right hand pointing (index straight, others curled), two frames."""
    one = reference_poses()["right_index_point"]
    return Motion.concatenate([one, one]).replace(fps=25.0)


def test_pose_file_reads_in_pose_format(tmp_path, pointing):
    from pose_format import Pose

    from engine.data.keypoints import BODY_POINT_NAMES, HAND_POINT_NAMES

    path = write_motion_file(pointing, tmp_path / "sign.pose")
    pose = Pose.read(path.read_bytes())
    names = [c.name for c in pose.header.components]
    assert names == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS",
                     "RIGHT_HAND_LANDMARKS"]
    comps = {c.name: c for c in pose.header.components}
    assert comps["POSE_LANDMARKS"].points == list(BODY_POINT_NAMES)
    assert comps["RIGHT_HAND_LANDMARKS"].points == list(HAND_POINT_NAMES)
    assert comps["FACE_LANDMARKS"].points == [str(i) for i in range(478)]
    assert all(c.format == "XYZC" for c in pose.header.components)
    assert pose.body.fps == 25.0
    assert pose.body.data.shape == (2, 1, 553, 3)
    conf = np.asarray(pose.body.confidence)[0, 0]
    face = conf[33:33 + 478]
    assert face.sum() == 478  # every Face Mesh point, on the default avatar
    assert conf[:33].all() and conf[33 + 478:].all()  # body and both hands complete
    # In image coordinates the subject's left eye (263) is right of the right eye (33),
    # the chin (152) below the nose (1), all inside the 512 x 512 frame.
    xy = np.asarray(pose.body.data)[0, 0, :, :2]
    assert xy[33 + 263, 0] > xy[33 + 33, 0] and xy[33 + 152, 1] > xy[33 + 1, 1]
    seen = conf > 0
    assert (xy[seen] >= 0).all() and (xy[seen] <= 512).all()


def test_pose_file_right_hand_is_the_right_hand(tmp_path, pointing):
    from engine.data.keypoints import BODY_INDEX, HAND_INDEX
    from engine.data.pose_reader import read_pose_file

    write_pose_file_path = write_motion_file(pointing, tmp_path / "sign.pose")
    seq = read_pose_file(write_pose_file_path)
    assert seq.fps == 25.0 and not seq.metadata.is_2d
    assert seq.body[0, BODY_INDEX["RIGHT_WRIST"], 0] < -1.0  # subject's right: x < 0
    assert seq.body[0, BODY_INDEX["LEFT_WRIST"], 0] > 1.0
    hand = seq.right_hand[0]
    assert hand[HAND_INDEX["WRIST"], 0] < 0
    np.testing.assert_allclose(hand[HAND_INDEX["WRIST"]], seq.body[0, BODY_INDEX["RIGHT_WRIST"]],
                               atol=1e-5)
    reach = np.linalg.norm(hand - hand[HAND_INDEX["WRIST"]], axis=1)
    assert int(np.argmax(reach)) == HAND_INDEX["INDEX_FINGER_TIP"]
    # The reader's frame: shoulders one unit apart, centred at the origin.
    shoulders = seq.body[0, [BODY_INDEX["LEFT_SHOULDER"], BODY_INDEX["RIGHT_SHOULDER"]]]
    np.testing.assert_allclose(np.linalg.norm(shoulders[0] - shoulders[1]), 1.0, atol=1e-5)
    # Left-right symmetric landmarks mirror each other in a symmetric pose.
    left_hand = seq.left_hand[0]
    assert left_hand[HAND_INDEX["INDEX_FINGER_TIP"], 0] > 0
    nose = seq.body[0, BODY_INDEX["NOSE"]]
    assert abs(nose[0]) < 1e-3 and nose[1] > 0.3 and nose[2] > 0  # on the midline, in front


def test_pose_file_follows_the_motion(tmp_path):
    from engine.data.keypoints import HAND_INDEX
    from engine.data.pose_reader import read_pose_file

    poses = reference_poses()
    clip = Motion.concatenate([poses["right_flat"], poses["right_fist"]])
    seq = read_pose_file(write_motion_file(clip, tmp_path / "fist.pose"))
    tip = seq.right_hand[:, HAND_INDEX["MIDDLE_FINGER_TIP"]]
    wrist = seq.right_hand[:, HAND_INDEX["WRIST"]]
    flat, fist = np.linalg.norm(tip - wrist, axis=1)
    assert fist < 0.6 * flat  # the fingertip comes back toward the wrist in a fist


# --- dispatch and atomic writes ---------------------------------------------------------

def test_unknown_extensions_list_the_supported_ones(tmp_path, signing):
    with pytest.raises(ValueError, match=r"\.fbx.*supported: \.npz.*\.smpl.*\.bvh.*\.pose"):
        write_motion_file(signing, tmp_path / "clip.fbx")
    with pytest.raises(ProjectFileError, match=r"lexicon's fitting.*supported: \.npz"):
        read_motion_file(tmp_path / "clip.pose")
    with pytest.raises(ProjectFileError, match=r"'\.txt'"):
        read_motion_file(tmp_path / "clip.txt")
    assert set(suffixes((Kind.MOTION, Kind.KEYPOINTS), "write")) == {
        ".npz", ".smpl", ".bvh", ".glb", ".pose"}
    assert _leftovers(tmp_path) == []


def _fail_after_partial_write(*args, **kwargs):
    """Stands in for a writer: writes a few bytes where it was told to, then fails."""
    target = next(a for a in args if isinstance(a, (str, Path, io.IOBase)))
    if isinstance(target, io.IOBase):
        target.write(b"partial")
    else:
        with open(target, "wb") as handle:
            handle.write(b"partial")
    raise OSError(errno.ENOSPC, "disk full")


@pytest.mark.parametrize("ext, patch", [
    (".npz", "numpy.savez_compressed"),
    (".smpl", "smplcodec.SMPLCodec.write"),
    (".bvh", "pathlib.Path.write_text"),
    (".pose", "pose_format.Pose.write"),
])
def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch, signing, ext, patch):
    module_name, attr = patch.rsplit(".", 1)
    owner = None
    for split in range(module_name.count(".") + 1, 0, -1):
        parts = module_name.split(".")
        try:
            owner = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            owner = getattr(owner, part)
        break
    target = tmp_path / f"clip{ext}"
    monkeypatch.setattr(owner, attr, _fail_after_partial_write)
    with pytest.raises(ProjectFileError,
                       match="could not be written .disk full.; the previous file, if any"):
        write_motion_file(signing, target)
    assert _leftovers(tmp_path) == []

    target.write_bytes(b"the user's good file")
    with pytest.raises(ProjectFileError,
                       match="could not be written .disk full.; the previous file, if any"):
        write_motion_file(signing, target)
    assert target.read_bytes() == b"the user's good file"
    assert _leftovers(tmp_path) == [target.name]
