"""No code runs from a file, and unreadable arrays get our own messages.

Each hostile file is made here: a payload member whose unpickling would create a marker
file. The marker must never appear, whatever reads the file.
"""
import io
import zipfile

import numpy as np
import pytest

from engine.body import SmplxBody, default_avatar
from engine.body.smplx_model import SmplxModelNotFound, read_smplx_model_file
from engine.cli import main
from engine.motion import Motion, load_project, save_project
from engine.motion.array_files import MAX_ARRAY_BYTES, read_npy, read_npz
from engine.motion.errors import ProjectFileError
from engine.motion.project import Project
from tests.synthetic_smplx import write_synthetic_smplx


class Payload:
    """Unpickling this opens ``marker`` for writing, which creates it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def payload_member(marker) -> np.ndarray:
    return np.array([Payload(marker)], dtype=object)


def add_member(archive_path, name: str, raw: bytes) -> None:
    with zipfile.ZipFile(archive_path, "a") as archive:
        archive.writestr(name, raw)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npy_header(shape, dtype="<f4") -> bytes:
    """A .npy header declaring ``shape`` of ``dtype``, with no data after it."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hostile_smplx_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model_pack")
    model = write_synthetic_smplx(folder / "SMPLX_NEUTRAL.npz", default_avatar().rest_joints)
    marker = folder / "payload_ran"
    add_member(model, "evil.npy", npy_bytes(payload_member(marker)))
    # The official files also carry pickled dicts; they are skipped the same way.
    add_member(model, "joint2num.npy", npy_bytes(np.array({"pelvis": 0}, dtype=object)))
    return folder, marker


@pytest.mark.slow
def test_smplx_payload_member_never_runs_and_the_model_loads(hostile_smplx_dir):
    folder, marker = hostile_smplx_dir
    body = SmplxBody(folder)
    assert set(body.ignored_members) == {"evil", "joint2num"}
    assert "pickled Python objects" in body.ignored_members["evil"]
    posed = body.forward(Motion.zeros(2))
    assert posed.vertices.shape == (2, 10475, 3)
    assert np.allclose(posed.joints[0], default_avatar().rest_joints, atol=1e-5)
    assert not marker.exists()


def test_info_names_the_ignored_members(hostile_smplx_dir, capsys, tmp_path, monkeypatch):
    folder, marker = hostile_smplx_dir
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["info", "--smplx-dir", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "SMPL-X: " + str(folder / "SMPLX_NEUTRAL.npz") in printed
    assert "ignored member 'evil'" in printed and "ignored member 'joint2num'" in printed
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.gl
def test_render_with_a_hostile_model_pack_runs_nothing(hostile_smplx_dir, tmp_path, monkeypatch):
    folder, marker = hostile_smplx_dir
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    save_project(Project(motion=Motion.zeros(3)), tmp_path / "p.signstudio")
    assert main(["render", str(tmp_path / "p.signstudio"), "--frame", "0", "-o",
                 str(tmp_path / "r.png"), "--avatar", "smplx", "--smplx-dir", str(folder),
                 "--width", "64", "--height", "48"]) == 0
    assert (tmp_path / "r.png").stat().st_size > 0
    assert not marker.exists()


def test_smplx_file_whose_required_array_is_pickled_is_refused(tmp_path):
    arrays = dict(np.load(write_synthetic_smplx(tmp_path / "ok.npz",
                                                default_avatar().rest_joints)))
    marker = tmp_path / "payload_ran"
    arrays["v_template"] = payload_member(marker)
    np.savez(tmp_path / "SMPLX_NEUTRAL.npz", **arrays)
    with pytest.raises(SmplxModelNotFound, match="no numeric 'v_template' array.*pickled"):
        read_smplx_model_file(tmp_path / "SMPLX_NEUTRAL.npz")
    assert not marker.exists()


# ------------------------------------------------------------------ arrays in files
def test_random_bytes_are_not_a_numeric_array_and_never_advice_to_unpickle(tmp_path):
    path = tmp_path / "noise.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("poses.npy", np.random.default_rng(0).bytes(4096))
    with pytest.raises(ProjectFileError) as error:
        read_npz(path)
    message = str(error.value)
    assert "member 'poses' is not a numeric array" in message and str(path) in message
    assert "allow_pickle" not in message and "unsafely" not in message


def test_a_declared_shape_too_big_is_refused_before_allocation(tmp_path):
    stream = io.BytesIO(npy_header((10**7, 10**7), "<f4"))
    with pytest.raises(ProjectFileError, match=r"declares shape \(10000000, 10000000\).*more "
                                               r"than the 1.0 GB an array may hold"):
        read_npy(stream, tmp_path / "f.npy", "poses")


def test_a_header_that_promises_more_than_the_member_holds_is_truncated(tmp_path):
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("poses.npy", npy_header((1000, 165), "<f4"))
    with pytest.raises(ProjectFileError, match="member 'poses' declares shape .* but holds only"):
        read_npz(path)


@pytest.mark.slow
def test_a_compression_bomb_is_refused_without_inflating_it(tmp_path):
    import time
    import tracemalloc

    path = tmp_path / "bomb.npz"
    count = (MAX_ARRAY_BYTES // 4) + 1024  # just over the limit: 1 GB of zeros
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("poses.npy", "w", force_zip64=True) as member:
            member.write(npy_header((count,), "<f4"))
            zeros = bytes(1 << 24)
            for _ in range(count * 4 // len(zeros) + 1):
                member.write(zeros)
    assert path.stat().st_size < 8 << 20
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ProjectFileError, match="more than the 1.0 GB"):
        read_npz(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - started < 5.0
    assert peak < 64 << 20


def test_project_with_a_payload_array_runs_nothing(tmp_path):
    path = tmp_path / "p.signstudio"
    save_project(Project(motion=Motion.zeros(4)), path)
    marker = tmp_path / "payload_ran"
    rebuilt = tmp_path / "hostile.signstudio"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for info in source.infolist():
            raw = source.read(info)
            if info.filename == "motion/transl.npy":
                raw = npy_bytes(payload_member(marker))
            target.writestr(info, raw)
    with pytest.raises(ProjectFileError, match="motion/transl.npy' is not a numeric array"):
        load_project(rebuilt)
    assert not marker.exists()


def test_smpl_file_with_a_payload_runs_nothing(tmp_path):
    from engine.export.motion_files import read_smpl, write_smpl

    path = write_smpl(Motion.zeros(3), tmp_path / "a.smpl")
    marker = tmp_path / "payload_ran"
    add_member(path, "extra.npy", npy_bytes(payload_member(marker)))
    with pytest.raises(ProjectFileError, match="member 'extra' is not a numeric array"):
        read_smpl(path)
    assert not marker.exists()


# ------------------------------------------------------------------ outputs
def test_pictures_are_written_atomically(tmp_path):
    from engine.export.render import write_image
    path = write_image(tmp_path / "frame.png", np.zeros((8, 8, 3), np.uint8))
    before = path.read_bytes()
    with pytest.raises(TypeError):  # the image encoder refuses it mid-write
        write_image(path, np.zeros((2, 2, 2, 2, 2), np.uint8))  # not a picture
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["frame.png"]  # no partial file left


def test_an_output_path_that_is_a_folder_is_one_clear_error(tmp_path):
    folder = tmp_path / "out.signstudio"
    folder.mkdir()
    with pytest.raises(ProjectFileError, match="out.signstudio: is a folder; expected a file name"):
        save_project(Project(motion=Motion.zeros(2)), folder)


def test_save_project_refuses_to_overwrite_a_file_changed_since_it_was_opened(tmp_path):
    from engine.motion.project_io import FileStamp, ProjectChangedOnDisk
    path = tmp_path / "p.signstudio"
    stamp = save_project(Project(motion=Motion.zeros(2), title="first"), path)
    assert stamp == FileStamp.of(path)
    other = save_project(Project(motion=Motion.zeros(2), title="other"), path)
    with pytest.raises(ProjectChangedOnDisk, match="changed on disk since it was opened"):
        save_project(Project(motion=Motion.zeros(2), title="stale"), path, opened_as=stamp)
    assert load_project(path).title == "other"
    save_project(Project(motion=Motion.zeros(2), title="fresh"), path, opened_as=other)
    assert load_project(path).title == "fresh"


def test_a_change_made_while_saving_is_caught_before_the_rename(tmp_path, monkeypatch):
    import engine.motion.project_io as project_io
    from engine.motion.project_io import ProjectChangedOnDisk
    path = tmp_path / "p.signstudio"
    stamp = save_project(Project(motion=Motion.zeros(2), title="first"), path)
    real_write = project_io._write_motion

    def slow_write(archive, folder, motion):  # another program saves mid-write
        if folder == "motion":
            path.write_bytes(b"someone else's bytes")
        real_write(archive, folder, motion)
    monkeypatch.setattr(project_io, "_write_motion", slow_write)
    with pytest.raises(ProjectChangedOnDisk):
        save_project(Project(motion=Motion.zeros(2), title="mine"), path, opened_as=stamp)
    assert path.read_bytes() == b"someone else's bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.signstudio"]


def test_clip_weights_with_a_payload_run_nothing(tmp_path):
    import json

    import torch

    from engine.learn.encoders import ClipEncoder, ClipWeightsError
    from tests.engine.test_encoders import TINY_CLIP
    folder = tmp_path / "clip"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CLIP}))
    marker = tmp_path / "payload_ran"
    torch.save({"state_dict": Payload(marker)}, folder / "open_clip_pytorch_model.bin")
    with pytest.raises(ClipWeightsError, match="holds Python objects other than tensors") as error:
        ClipEncoder.from_path(folder)
    assert "weights_only" not in str(error.value) and not marker.exists()


def test_a_pickled_checkpoint_runs_nothing_and_gets_our_message(tmp_path):
    import torch

    from engine.learn.checkpoint import CheckpointError, load_checkpoint
    marker = tmp_path / "payload_ran"
    torch.save({"format": "signstudio-checkpoint", "manifest": Payload(marker)},
               tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="evil.pt: not a Sign Studio checkpoint: it holds "
                                              "Python objects") as error:
        load_checkpoint(tmp_path / "evil.pt")
    assert "weights_only" not in str(error.value) and not marker.exists()


def test_junk_in_place_of_a_checkpoint_is_damaged_not_dangerous(tmp_path):
    from engine.learn.checkpoint import CheckpointError, load_checkpoint
    (tmp_path / "junk.pt").write_bytes(b"\x00not torch at all")
    with pytest.raises(CheckpointError, match="junk.pt: not a Sign Studio checkpoint: not a "
                                              "readable torch archive") as error:
        load_checkpoint(tmp_path / "junk.pt")
    assert "weights_only" not in str(error.value)


def test_an_archive_with_too_many_members_is_refused(tmp_path):
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(1001):
            archive.writestr(f"m{number}.npy", b"")
    with pytest.raises(ProjectFileError, match="many.npz: the archive has 1,001 members; a "
                                               "motion or model file has at most 1,000"):
        read_npz(path)


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path):
    import os
    path = tmp_path / "p.signstudio"
    dead = tmp_path / ".p.999999999.x1y2.partial.signstudio"  # no such process
    live = tmp_path / f".p.{os.getpid()}.abcd.partial.signstudio"  # a writer still at work
    other = tmp_path / ".q.999999999.zz.partial.signstudio"  # another target's
    # A live writer of "p.2024.signstudio": its name starts like ours, "2024" is no pid.
    dotted = tmp_path / f".p.2024.{os.getpid()}.k9.partial.signstudio"
    for leftover in (dead, live, other, dotted):
        leftover.write_bytes(b"half a file")
    save_project(Project(motion=Motion.zeros(2)), path)
    assert not dead.exists() and live.exists() and other.exists() and dotted.exists()
    assert load_project(path).motion.num_frames == 2


def test_a_project_field_declaring_other_frames_is_refused_before_reading(tmp_path):
    path = tmp_path / "p.signstudio"
    save_project(Project(motion=Motion.zeros(4)), path)
    rebuilt = tmp_path / "liar.signstudio"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for info in source.infolist():
            raw = source.read(info)
            if info.filename == "motion/body_pose.npy":
                raw = npy_header((10**6, 21, 3))  # claims a million frames, holds none
            target.writestr(info, raw)
    with pytest.raises(ProjectFileError, match=r"member 'motion/body_pose.npy' declares shape "
                                               r"\(1000000, 21, 3\); the motion's other fields "
                                               r"have 4 frames"):
        load_project(rebuilt)


@pytest.mark.slow
def test_a_header_length_bomb_is_refused_before_its_header_is_read(tmp_path):
    import tracemalloc
    path = tmp_path / "header_bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("poses.npy", "w") as member:  # version 2.0: a 4-byte length
            member.write(b"\x93NUMPY\x02\x00" + (200 << 20).to_bytes(4, "little"))
            member.write(b" " * (200 << 20))  # 200 MB of "header", deflated to kilobytes
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(ProjectFileError) as error:
        read_npz(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "its .npy header declares 209,715,200 bytes; a header has at most 10,000" in str(
        error.value)
    assert "allow_pickle" not in str(error.value) and peak < 16 << 20


@pytest.mark.parametrize("damage, message", [
    ("deflate", "cannot be read (the file is truncated or damaged)"),
    ("zero_itemsize", "it holds values of type <U0"),
    ("structured", "it holds structured records"),
    ("huge_dimension", "not a numeric array (shape (0, 100000000000000000000))"),
    ("bad_literal", "its .npy header is not a Python literal"),
])
def test_damaged_members_are_named_never_a_bare_python_error(tmp_path, damage, message):
    path = tmp_path / "bad.npz"
    header = {"zero_itemsize": "{'descr': '<U0', 'fortran_order': False, 'shape': (3,), }",
              "structured": "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }",
              "huge_dimension": "{'descr': '<f4', 'fortran_order': False, "
                                "'shape': (0, 10**20), }".replace("10**20", str(10**20)),
              "bad_literal": "{'descr': '<f4', 'fortran_order': False, 'shape': (1,}"}
    if damage == "deflate":
        np.savez_compressed(path, poses=np.arange(20000, dtype=np.float32))
        raw = bytearray(path.read_bytes())
        middle = len(raw) // 2
        raw[middle:middle + 60] = bytes(60)  # corrupt the deflate stream, not the directory
        path.write_bytes(bytes(raw))
    else:
        text = header[damage].encode("latin1")
        text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
        raw = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + bytes(64)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("poses.npy", raw)
    with pytest.raises(ProjectFileError) as error:
        read_npz(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_big_endian_arrays_are_read_as_numbers(tmp_path):
    path = tmp_path / "be.npz"
    np.savez(path, poses=np.arange(6, dtype=">f4").reshape(2, 3))
    arrays, _ = read_npz(path)
    assert arrays["poses"].dtype == np.float32 and arrays["poses"].dtype.isnative
    assert arrays["poses"].tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.slow
def test_a_tampered_numeric_copy_in_the_cache_is_replaced_not_loaded(hostile_smplx_dir):
    from engine.body.smplx_model import numeric_copy
    folder, marker = hostile_smplx_dir
    checked = read_smplx_model_file(folder / "SMPLX_NEUTRAL.npz")
    copy = numeric_copy(checked)
    add_member(copy, "planted.npy", npy_bytes(payload_member(marker)))  # someone edits it
    body = SmplxBody(folder)  # smplx must never see the planted member
    assert body.forward(Motion.zeros(1)).vertices.shape == (1, 10475, 3)
    assert not marker.exists()
    assert "planted" not in read_npz(copy)[0]
