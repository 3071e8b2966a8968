"""The file-format registry (engine.io): every suffix list comes from it, so it must be
whole and every handler it names must exist."""
import inspect

import pytest

from engine.io import FORMATS, Kind, UnknownFormat, dialog_filter, format_for, suffixes


def test_every_registered_reader_and_writer_resolves_to_a_function():
    for fmt in FORMATS:
        for handler in (fmt.reader, fmt.writer):
            if handler is not None:
                function = getattr(fmt, "read" if handler == fmt.reader else "write")
                assert callable(function) and inspect.signature(function).parameters


def test_each_suffix_has_one_kind_and_a_gif_is_a_video_everywhere():
    assert len({fmt.suffix for fmt in FORMATS}) == len(FORMATS)
    assert format_for("clip.GIF").kind is Kind.VIDEO
    assert ".gif" in suffixes(Kind.VIDEO, "write") and ".gif" in suffixes(Kind.VIDEO, "read")
    assert ".gif" not in suffixes(Kind.IMAGE)
    assert ".mpg" in suffixes(Kind.VIDEO, "read")  # the studio used to refuse it


def test_an_unknown_extension_names_the_file_and_what_would_do(tmp_path):
    with pytest.raises(UnknownFormat, match=r"take\.fbx: cannot write files ending in '\.fbx'.*"
                                            r"\.npz, \.smpl, \.bvh, \.glb"):
        format_for(tmp_path / "take.fbx", Kind.MOTION, "write")
    with pytest.raises(UnknownFormat, match=r"\.mov"):
        format_for("clip.mov", Kind.VIDEO, "write")  # read only
    assert format_for("clip.mov", Kind.VIDEO, "read").suffix == ".mov"


def test_dialog_filters_list_everything_then_each_kind():
    text = dialog_filter((Kind.VIDEO, Kind.MOTION), "read", "Recordings")
    entries = text.split(";;")
    assert entries[0].startswith("Recordings (*.npz") and "*.mpeg" in entries[0]
    assert entries[1].startswith("Motion files (*.npz *.smpl *.bvh *.glb)")
    assert entries[2].startswith("Videos (*.mp4")
    assert dialog_filter(Kind.PROJECT, "read", "Projects") == "Projects (*.signstudio)"


def test_a_glb_the_registry_lists_as_importable_is_read_back(tmp_path):
    from engine.export.gltf import write_glb
    from engine.motion import Motion
    from engine.workflows.recording import import_recording

    motion = Motion.zeros(3)
    write_glb(motion, tmp_path / "clip.glb")
    project = import_recording(tmp_path / "clip.glb", place_keyframes=False)
    assert project.motion.num_frames == 3 and project.title == "clip"
