"""The use-case functions themselves (engine.workflows), without a front end: what the
CLI and the studio both rely on."""
import numpy as np
import pytest

from engine.body import default_avatar
from engine.io import UnknownFormat
from engine.motion import Motion, Project, load_project, save_project
from engine.motion.errors import UsageError
from engine.workflows.export import ExportOptions, export_project


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_SMPLX_DIR", raising=False)
    monkeypatch.delenv("SIGNSTUDIO_CLIP_WEIGHTS", raising=False)


@pytest.fixture
def larger_smplx(tmp_path):
    """A synthetic SMPL-X folder whose body is 15% larger than the default avatar."""
    from tests.synthetic_smplx import write_synthetic_smplx

    write_synthetic_smplx(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz",
                          default_avatar().rest_joints * 1.15)
    return tmp_path / "smplx"


def _bvh_offsets(path) -> np.ndarray:
    return np.array([[float(v) for v in line.split()[1:]] for line in path.read_text().splitlines()
                     if line.strip().startswith("OFFSET")])


def test_export_uses_the_projects_avatar_unless_the_options_name_one(tmp_path, larger_smplx):
    project = Project(motion=Motion.zeros(3), avatar="smplx")
    options = ExportOptions(smplx_dir=str(larger_smplx))
    result = export_project(project, tmp_path / "smplx.bvh", options)
    assert result.notes == ()
    export_project(project, tmp_path / "default.bvh", ExportOptions(avatar="default"))
    export_project(project.replace(avatar="default"), tmp_path / "plain.bvh")
    smplx, default = _bvh_offsets(tmp_path / "smplx.bvh"), _bvh_offsets(tmp_path / "default.bvh")
    assert np.allclose(default, _bvh_offsets(tmp_path / "plain.bvh"))
    # The skeleton is the 15% larger body's: its bones 1.15 times as long (the end sites
    # past the fingertips and head come from each mesh's own surface).
    lengths = np.linalg.norm(smplx, axis=1), np.linalg.norm(default, axis=1)
    ratios = lengths[0][lengths[1] > 1.0] / lengths[1][lengths[1] > 1.0]
    assert np.mean(np.abs(ratios - 1.15) < 0.01) > 0.7  # with the default avatar: none


def test_a_missing_smplx_falls_back_to_the_default_avatar_and_says_so(tmp_path):
    project = Project(motion=Motion.zeros(3), avatar="smplx")
    result = export_project(project, tmp_path / "clip.bvh",
                            ExportOptions(smplx_dir=str(tmp_path / "nowhere")))
    assert len(result.notes) == 1 and "SMPL-X is not available" in result.notes[0]
    export_project(project.replace(avatar="default"), tmp_path / "default.bvh")
    assert np.allclose(_bvh_offsets(tmp_path / "clip.bvh"), _bvh_offsets(tmp_path / "default.bvh"))
    # A motion file that carries no body needs no avatar, so nothing is said...
    assert export_project(project, tmp_path / "clip.npz",
                          ExportOptions(smplx_dir=str(tmp_path / "nowhere"))).notes == ()
    # ...unless it has a face to write in SMPL-X's terms.
    smiling = project.replace(motion=project.motion.replace(
        face_blendshapes=np.full((3, 52), 0.2, np.float32)))
    notes = export_project(smiling, tmp_path / "face.npz",
                           ExportOptions(smplx_dir=str(tmp_path / "nowhere"))).notes
    assert len(notes) == 1 and notes[0].endswith("the face is written as ARKit weights only")


def test_a_frame_rate_resamples_motion_files_and_is_refused_for_a_project(tmp_path):
    from engine.export.motion_files import read_motion_file

    project = Project(motion=Motion.zeros(31, fps=30.0))
    export_project(project, tmp_path / "slow.npz", ExportOptions(fps=15.0))
    slow = read_motion_file(tmp_path / "slow.npz")
    assert slow.fps == 15.0 and slow.num_frames == 16
    with pytest.raises(UsageError, match="a project keeps its own frame rate"):
        export_project(project, tmp_path / "p.signstudio", ExportOptions(fps=15.0))
    export_project(project, tmp_path / "p.signstudio", ExportOptions(fps=30.0))
    assert load_project(tmp_path / "p.signstudio").motion.num_frames == 31


def test_an_unwritable_extension_is_bad_use_and_writes_nothing(tmp_path):
    with pytest.raises(UnknownFormat, match=r"x\.fbx: cannot write.*\.signstudio.*\.sigml"):
        export_project(Project(motion=Motion.zeros(2)), tmp_path / "x.fbx")
    assert isinstance(UnknownFormat("x"), UsageError) and list(tmp_path.iterdir()) == []
    with pytest.raises(UsageError, match="camera: expected one of"):
        ExportOptions(camera="drone")
    with pytest.raises(UsageError, match="avatar: expected one of"):
        ExportOptions(avatar="robot")


def test_the_cli_refuses_an_output_before_reading_the_input(tmp_path, capsys):
    from engine.cli import main

    # The input does not even exist: the output's extension is checked first.
    assert main(["export", str(tmp_path / "absent.mp4"), "-o", str(tmp_path / "x.fbx")]) == 2
    assert "x.fbx: cannot write" in capsys.readouterr().err
    save_project(Project(motion=Motion.zeros(2)), tmp_path / "p.signstudio")
    assert main(["export", str(tmp_path / "p.signstudio"), "--sigml", str(tmp_path / "s.npz")]) == 2


def test_a_landmark_search_never_touches_clip_weights(tmp_path, monkeypatch, lexicon_path):
    """Broken CLIP settings must not stop (or slow) the MediaPipe route."""
    import imageio.v3 as iio

    from engine.data.lexicon import LexiconStore
    from engine.generate.image_match import ImageQueryError
    from engine.workflows.find_sign import FindSignOptions, SignFinder

    monkeypatch.setenv("SIGNSTUDIO_CLIP_WEIGHTS", str(tmp_path / "missing.safetensors"))
    iio.imwrite(tmp_path / "blank.png", np.full((64, 64, 3), 255, np.uint8))
    with LexiconStore(lexicon_path) as store:
        finder = SignFinder(store)
        with pytest.raises(ImageQueryError, match="no hand found"):
            finder.find(tmp_path / "blank.png", FindSignOptions("ase", route="mediapipe"))
        # Asked for CLIP, the bad weights are named.
        with pytest.raises(ValueError, match="missing.safetensors"):
            finder.find(tmp_path / "blank.png", FindSignOptions("ase", route="auto"))


def test_the_lexicon_build_checks_the_tempo_setting_before_fitting(tmp_path, monkeypatch):
    import engine.data.lexicon_build as lexicon_build
    from engine.data.lexicon import LexiconStore
    from engine.settings import Settings, save_settings
    from engine.workflows.lexicon import BuildOptions, build_lexicon

    save_settings(Settings(signing_speed="fast"))

    def no_fitting():
        raise AssertionError("fitting started before the damaged setting was noticed")
    monkeypatch.setattr(lexicon_build, "_default_fit", no_fitting)
    with LexiconStore(tmp_path / "lex.sqlite") as store:
        with pytest.raises(ValueError, match="signing_speed setting"):
            build_lexicon(store, BuildOptions(languages=("sgg",)))
        assert len(store) == 0


def test_languages_are_shown_by_their_names():
    from engine.data.languages import LANGUAGE_NAMES, language_label

    assert language_label("sgg") == "Swiss German Sign Language (sgg)"
    assert language_label("ase") == "American Sign Language (ase)"
    assert language_label("xyz") == "xyz"  # a code we have no name for stays readable
    assert LANGUAGE_NAMES["ase"] == "ASL"  # the short form, for handshape presets


def test_a_generated_project_records_its_text_language_and_tempo(lexicon_path):
    from engine.data.lexicon import LexiconStore
    from engine.motion import Origin
    from engine.settings import Settings, save_settings
    from engine.workflows.generate import GenerateOptions, generate_signing

    save_settings(Settings(signing_speed="1.5"))
    with LexiconStore(lexicon_path) as store:
        generation = generate_signing(store, "Hello", GenerateOptions("ase", fps=25.0))
    assert generation.project.origin == Origin("Hello", "ase", 25.0, 1.5)


def test_only_the_letters_a_text_lacks_are_fitted(tmp_path, monkeypatch, lexicon_path):
    from types import SimpleNamespace

    import engine.data.lexicon_build as lexicon_build
    from engine.data.lexicon import LexiconStore
    from engine.workflows.lexicon import fit_letters_for, signable_languages

    fitted = []

    def still_fit(sequence, cancel=None):  # the choice of clips is under test, not fitting
        fitted.append(sequence.num_frames)
        return SimpleNamespace(motion=Motion.zeros(sequence.num_frames, fps=sequence.fps),
                               quality={})
    monkeypatch.setattr(lexicon_build, "_default_fit", lambda: still_fit)
    with LexiconStore(lexicon_path) as store:  # H, E, L, O, B in ASL
        assert {"ase", "gsg", "sgg"} <= set(signable_languages(store))
        assert fit_letters_for(store, "hello", "ase") == 0 and fitted == []
        assert fit_letters_for(store, "жжж", "ase") == 0  # the package has nothing for it
        assert fit_letters_for(store, "zoo", "ase") == 1  # Z only: O is there
        assert sorted(s.gloss for s in store.list("ase")) == ["B", "E", "H", "L", "O", "Z"]
        # A language with no letter yet gets its whole alphabet.
        assert fit_letters_for(store, "ja", "gsg") > 20


def test_generating_fits_missing_letters_unless_told_not_to(tmp_path, monkeypatch,
                                                            lexicon_path):
    from types import SimpleNamespace

    import engine.data.lexicon_build as lexicon_build
    from engine.cli import main

    def still_fit(sequence, cancel=None):
        return SimpleNamespace(motion=Motion.zeros(sequence.num_frames, fps=sequence.fps),
                               quality={})
    monkeypatch.setattr(lexicon_build, "_default_fit", lambda: still_fit)
    out = tmp_path / "zoo.signstudio"
    db = ["--db", str(lexicon_path)]
    assert main(["generate", "zoo", "--lang", "ase", "-o", str(out), "--no-fit"] + db) == 0
    assert [s.gloss for s in load_project(out).segments] == ["O", "O"]  # Z is missing
    assert main(["generate", "zoo", "--lang", "ase", "-o", str(out)] + db) == 0
    assert [s.gloss for s in load_project(out).segments] == ["Z", "O", "O"]
