"""Projects: keyframes, segments, and the atomic .signstudio file."""
import errno
import json
import os
import zipfile

import numpy as np
import pytest

from engine.motion import (
    Channel, Keyframe, MotionError, Project, ProjectFileError, Segment, load_project, save_project,
)
from engine.motion.project import PROJECT_SCHEMA_VERSION


@pytest.fixture
def project(motion):
    keys = (
        Keyframe.from_motion(motion, 0),
        Keyframe.from_motion(motion, 6, channels={Channel.LEFT_HAND, Channel.RIGHT_HAND}),
        Keyframe.from_motion(motion, 11, channels={"face"}),
    )
    segments = (Segment("HELLO", "ase", 0, 6, hold=2),
                Segment("A", "ase", 6, 12, hold=3, kind="fingerspelled"))
    return Project(motion=motion, keyframes=keys, segments=segments, title="Grüße")


def test_round_trip_is_exact(tmp_path, project):
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.equals(project)
    assert loaded.keyframes[1].channels == {Channel.LEFT_HAND, Channel.RIGHT_HAND}
    assert loaded.segments[1].kind.value == "fingerspelled"


def test_keyframes_sorted_and_unique(motion):
    keys = (Keyframe.from_motion(motion, 5), Keyframe.from_motion(motion, 2))
    assert [k.frame for k in Project(motion, keys).keyframes] == [2, 5]
    with pytest.raises(MotionError, match="two keyframes at frame 2"):
        Project(motion, keys + (Keyframe.from_motion(motion, 2),))
    with pytest.raises(MotionError, match="past the last frame"):
        Project(motion, (Keyframe(frame=99, pose=motion.frame(0)),))


@pytest.mark.parametrize("kwargs, field", [
    (dict(gloss="", language="ase", start=0, end=3), "gloss"),
    (dict(gloss="A", language="", start=0, end=3), "language"),
    (dict(gloss="A", language="ase", start=3, end=3), "start/end"),
    (dict(gloss="A", language="ase", start=0, end=3, hold=4), "hold"),
    (dict(gloss="A", language="ase", start=0, end=3, kind="dance"), "kind"),
])
def test_bad_segments(kwargs, field):
    with pytest.raises(MotionError, match=f"Segment.{field}"):
        Segment(**kwargs)


def test_bad_keyframe_channels(motion):
    with pytest.raises(MotionError, match="Keyframe.channels"):
        Keyframe(frame=0, pose=motion.frame(0), channels={"tail"})
    with pytest.raises(MotionError, match="1-frame"):
        Keyframe(frame=0, pose=motion)


def test_save_is_atomic_on_failure(tmp_path, project, monkeypatch):
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(errno.ENOSPC, "disk full")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(ProjectFileError,
                       match="could not be written .disk full.; the previous file, if any"):
        save_project(project.replace(title="changed"), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.signstudio"]  # no temp file left behind


def _rewrite(path, member, data):
    with zipfile.ZipFile(path) as src:
        items = {n: src.read(n) for n in src.namelist()}
    if data is None:
        del items[member]
    else:
        items[member] = data
    with zipfile.ZipFile(path, "w") as dst:
        for name, payload in items.items():
            dst.writestr(name, payload)


def test_newer_schema_is_refused_clearly(tmp_path, project):
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    header = json.loads(zipfile.ZipFile(path).read("project.json"))
    header["schema_version"] = PROJECT_SCHEMA_VERSION + 1
    _rewrite(path, "project.json", json.dumps(header))
    before = path.read_bytes()
    with pytest.raises(ProjectFileError, match="newer Sign Studio") as error:
        load_project(path)
    assert str(path) in str(error.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("damage, message", [
    ("truncate", "damaged or not a zip"),
    ("no_header", "no project.json"),
    ("bad_json", "not valid JSON"),
    ("wrong_shape", "motion: Motion.body_pose"),
    ("missing_array", "missing array 'motion/transl.npy'"),
    ("pickled_array", "not a numeric array .it holds pickled Python objects"),
    ("bad_fps", "'fps'"),
])
def test_corrupt_files_give_clear_errors(tmp_path, project, damage, message):
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "no_header":
        _rewrite(path, "project.json", None)
    elif damage == "bad_json":
        _rewrite(path, "project.json", b"{not json")
    elif damage == "wrong_shape":
        import io
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((12, 63), np.float32))
        _rewrite(path, "motion/body_pose.npy", buffer.getvalue())
    elif damage == "missing_array":
        _rewrite(path, "motion/transl.npy", None)
    elif damage == "pickled_array":
        import io
        buffer = io.BytesIO()
        np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        _rewrite(path, "motion/transl.npy", buffer.getvalue())
    elif damage == "bad_fps":
        header = json.loads(zipfile.ZipFile(path).read("project.json"))
        header["fps"] = "fast"
        _rewrite(path, "project.json", json.dumps(header))
    with pytest.raises(ProjectFileError, match=message) as error:
        load_project(path)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(ProjectFileError, match="no such file"):
        load_project(tmp_path / "nope.signstudio")


def test_saved_files_get_normal_permissions(tmp_path, project):
    old = os.umask(0o022)
    try:
        path = tmp_path / "p.signstudio"
        save_project(project, path)
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
        path.chmod(0o640)
        save_project(project, path)  # replacing keeps the user's chosen mode
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_a_project_keeps_what_it_was_generated_from(tmp_path, project):
    from engine.motion import Origin

    made = project.replace(origin=Origin("Grüße aus Zürich", "sgg", 25.0, 0.8))
    save_project(made, tmp_path / "made.signstudio")
    loaded = load_project(tmp_path / "made.signstudio")
    assert loaded.equals(made) and loaded.origin == Origin("Grüße aus Zürich", "sgg", 25.0, 0.8)
    assert not loaded.equals(project)  # the origin is part of what is saved
    save_project(project, tmp_path / "plain.signstudio")
    assert load_project(tmp_path / "plain.signstudio").origin is None


@pytest.mark.parametrize("origin, problem", [
    ("hello", "field 'origin': expected an object"),
    ({"text": "hi"}, "origin"),
    ({"text": 3, "language": "ase"}, "Project.origin.text: expected text"),
    ({"text": "hi", "language": "ase", "fps": "fast"}, "Project.origin.fps: expected a number"),
    ({"text": "hi", "language": "ase", "colour": "red"}, "colour"),
])
def test_a_damaged_origin_names_the_field(tmp_path, project, origin, problem):
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    header = json.loads(members["project.json"])
    header["origin"] = origin
    members["project.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ProjectFileError, match=problem):
        load_project(path)
