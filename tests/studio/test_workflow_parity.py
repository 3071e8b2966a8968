"""The studio and the CLI are adapters over the same workflows: the same export, and the
same search for a sign from a photo, give the same result from either."""
import numpy as np
import pytest

from engine.cli import build_parser, main
from engine.cli_commands import _export_options
from engine.workflows.export import ExportOptions


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_CLIP_WEIGHTS", raising=False)


def _dialog_export(window, qtbot, fmt, path, **video):
    dialog = window.open_export_dialog()
    dialog.set_format(fmt)
    dialog.path.setText(str(path))
    for name, value in video.items():
        {"width": dialog.width_box.setValue, "height": dialog.height_box.setValue,
         "camera": dialog.camera.setCurrentText}[name](value)
    handle = dialog.start()
    with qtbot.waitSignal(handle.finished, timeout=60000):
        pass
    dialog.close()
    return path


def test_both_start_from_the_same_export_defaults(generated):
    dialog = generated.open_export_dialog()
    parsed = build_parser().parse_args(["export", "in.signstudio", "-o", "out.mp4"])
    assert dialog.options() == _export_options(parsed) == ExportOptions()
    assert (dialog.options().width, dialog.options().height) == (1280, 720)
    # The format shown is the file name's, and a video's options are on show.
    assert dialog.selected_format() == ".mp4" and dialog.path.text().endswith(".mp4")
    assert not dialog.video_group.isHidden()
    dialog.close()


@pytest.mark.gl
def test_an_export_from_the_dialog_equals_the_cli_export(generated, qtbot, tmp_path):
    import imageio.v3 as iio

    from engine.motion import save_project

    project_path = tmp_path / "hello.signstudio"
    save_project(generated.document.project, project_path)
    studio_bvh = _dialog_export(generated, qtbot, "bvh", tmp_path / "studio.bvh")
    assert main(["export", str(project_path), "-o", str(tmp_path / "cli.bvh")]) == 0
    assert studio_bvh.read_bytes() == (tmp_path / "cli.bvh").read_bytes()

    video = {"width": 96, "height": 64, "camera": "hands"}
    studio_gif = _dialog_export(generated, qtbot, "gif", tmp_path / "studio.gif", **video)
    assert main(["export", str(project_path), "-o", str(tmp_path / "cli.gif"), "--width", "96",
                 "--height", "64", "--camera", "hands"]) == 0
    studio_frames, cli_frames = (iio.imread(p) for p in (studio_gif, tmp_path / "cli.gif"))
    assert studio_frames.shape == cli_frames.shape
    assert studio_frames.shape[1:3] == (64, 96) and len(studio_frames) > 10
    assert np.array_equal(studio_frames, cli_frames)


@pytest.mark.gl
def test_a_photo_finds_the_same_signs_in_the_studio_and_the_cli(make_window, qtbot, tmp_path,
                                                                 lexicon_path, capsys):
    import imageio.v3 as iio

    from engine.body import default_avatar
    from engine.body.reference_poses import RIGHT_HAND_SHAPES
    from engine.body.skeleton import JOINT_INDEX
    from engine.export.render import OffscreenRenderer
    from engine.motion import Motion

    avatar = default_avatar()
    posed = avatar.forward(Motion.zeros(1).replace(right_hand_pose=RIGHT_HAND_SHAPES["asl_v"][None]))
    centre = posed.joints[0, [JOINT_INDEX["right_wrist"], JOINT_INDEX["right_middle1"]]].mean(0)
    with OffscreenRenderer(avatar, 480, 480) as renderer:
        renderer.look_at(centre, (0.3, -1.0, 0.3), 0.3, up=(0, 0, 1))
        iio.imwrite(tmp_path / "photo.png", renderer.render(posed.vertices[0]))

    window = make_window()
    handle = window.runner.submit("find", window.lexicon.match_image, str(tmp_path / "photo.png"),
                                  "ase", top=3)
    found = []
    handle.finished.connect(found.append)
    with qtbot.waitSignal(handle.finished, timeout=30000):
        pass
    studio_ranking = [(m.entry.gloss, round(m.score, 2)) for m in found[0]]

    capsys.readouterr()
    assert main(["find-sign", str(tmp_path / "photo.png"), "--lang", "ase", "--top", "3",
                 "--db", str(lexicon_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    cli_ranking = [(line.split(". ", 1)[1].split(" (")[0], float(line.rsplit(" ", 1)[1]))
                   for line in lines]
    assert len(studio_ranking) == 3 and studio_ranking == cli_ranking
