"""The signing face: markers and mouthing as layers over a project's motion, saved with
it, applied when it is shown or exported, and left alone by body edits."""
import json
import zipfile

import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.skeleton import JOINT_INDEX
from engine.face.mouthing import mouthing_curves, viseme_timing
from engine.face.nonmanual import envelope
from engine.face.perform import performed_motion
from engine.face.phonemes import PhonemizerUnavailable, phonemize, voice_for
from engine.face.presets import (
    BUILT_IN, find_preset, load_user_presets, preset_from_markers, save_user_preset,
)
from engine.generate.kf2p import regenerate
from engine.motion import FACE_BLENDSHAPE_INDEX, Motion, Project, Segment, load_project, save_project
from engine.motion.edits import ReplaceProject, apply
from engine.motion.errors import MotionError, ProjectFileError, UsageError
from engine.motion.markers import FaceMarker, MarkerKind, Mouthing, Track
from engine.motion.project import Keyframe
from engine.workflows import face
from engine.workflows.export import export_project

FPS = 30.0


def weight(motion: Motion, name: str) -> np.ndarray:
    return motion.face_blendshapes[:, FACE_BLENDSHAPE_INDEX[name]]


@pytest.fixture
def signed():
    """Two signs over 60 frames of a still pose, the first mouthed 'Haus' in German."""
    motion = Motion.zeros(60, fps=FPS)
    haus = Mouthing("Haus", "de", phonemize("Haus", "de"))
    segments = (Segment("HAUS", "sgg", 5, 30, mouthing=haus), Segment("KIND", "sgg", 30, 55))
    return Project(motion=motion, segments=segments, title="t")


# ------------------------------------------------------------------ mouthing
def test_german_haus_is_phonemized_offline_and_mouthed_in_order():
    assert phonemize("Haus", voice_for("sgg")) == ("h", "aʊ", "s")
    timing = viseme_timing(Mouthing("Haus", "de", ("h", "aʊ", "s")), 30, FPS)
    assert timing.visemes == ("kk", "aa", "U", "SS")  # the diphthong shows both vowels
    assert np.all(np.diff(timing.centres) > 0) and timing.unknown == ()
    assert 0 < timing.centres[0] and timing.centres[-1] < 30


def test_the_jaw_opens_on_the_vowel_and_the_lips_close_on_m():
    mama = Mouthing("Mama", "de", phonemize("Mama", "de"))
    weights, jaw = mouthing_curves(mama, 40, FPS)
    timing = viseme_timing(mama, 40, FPS)
    at = {v: int(round(c)) for v, c in zip(timing.visemes, timing.centres)}
    assert timing.visemes == ("PP", "aa", "PP", "aa")
    press = weights[:, FACE_BLENDSHAPE_INDEX["mouthPressLeft"]]
    m_frame = int(round(timing.centres[2]))
    assert jaw[at["aa"]] > 0.15 > jaw[m_frame]            # open on a, (almost) shut on m
    assert press[m_frame] > 0.3 > press[at["aa"]]
    assert jaw[0] == 0 and jaw[-1] == 0 and np.all(weights[[0, -1]] == 0)  # neutral outside
    assert np.all(np.abs(np.diff(jaw)) < 0.1)              # smooth: no snap between frames


def test_unknown_phonemes_and_missing_voices_are_named():
    timing = viseme_timing(Mouthing("x", "de", ("h", "☃")), 20, FPS)
    assert timing.unknown == ("☃",) and "sil" in timing.visemes
    with pytest.raises(PhonemizerUnavailable, match="sign language 'xyz'"):
        voice_for("xyz")
    with pytest.raises(UsageError, match="no voice 'qq-zz'"):
        phonemize("Haus", "qq-zz")
    notes: list[str] = []
    assert face.mouthing_or_note("Haus", "xyz", notes) is None
    assert notes and "xyz" in notes[0]


def test_every_sign_language_has_a_voice_that_speaks():
    from engine.data.languages import LANGUAGES
    from engine.face.phonemes import SPOKEN_VOICE

    assert set(SPOKEN_VOICE) == set(LANGUAGES)
    for language in LANGUAGES:
        assert phonemize("mama", voice_for(language)), language


def test_mouthing_shows_on_the_performed_face_and_switches_off(signed):
    shown = performed_motion(signed)
    assert shown is not signed.motion
    assert np.abs(shown.jaw_pose[5:30, 0]).max() > 0.15
    assert np.all(shown.jaw_pose[30:] == 0)                 # KIND carries no mouthing
    assert np.all(signed.motion.jaw_pose == 0)               # the base is never written
    off = signed.replace(mouthing=False)
    assert performed_motion(off) is off.motion


def test_gloss_words():
    assert face.gloss_word("HAUS") == "Haus"
    assert face.gloss_word("GEHEN-2") == "Gehen"
    assert face.gloss_word("NICE^TO") == "Nice to"
    assert face.gloss_word("123") == ""


# ------------------------------------------------------------------ markers
def test_a_marker_made_only_of_ramps_still_reaches_its_intensity():
    for length in (2, 4, 8):
        strength = envelope(FaceMarker(MarkerKind.BLINK, 0, length, 1.0, length // 2,
                                       length // 2))
        assert strength.max() == pytest.approx(1.0), length


def test_envelope_ramps_to_the_intensity_and_back():
    strength = envelope(FaceMarker(MarkerKind.BROWS_RAISE, 10, 40, 0.5, 6, 6))
    assert strength.shape == (30,)
    assert strength[0] < 0.1 and strength[-1] < 0.1
    assert np.allclose(strength[6:24], 0.5)
    assert np.all(np.diff(strength[:7]) >= 0)


def test_markers_move_the_face_where_they_say(signed):
    project = signed.replace(mouthing=False, markers=(
        FaceMarker(MarkerKind.BROWS_RAISE, 0, 20, 1.0, 4, 4),
        FaceMarker(MarkerKind.BLINK, 20, 26, 1.0, 2, 2),
        FaceMarker(MarkerKind.HEAD_SHAKE, 30, 60, 1.0, 3, 3)))
    shown = performed_motion(project)
    assert weight(shown, "browInnerUp")[10] == pytest.approx(0.9)
    assert weight(shown, "browInnerUp")[25] == 0
    assert weight(shown, "eyeBlinkLeft")[23] == pytest.approx(1.0)
    joints = default_avatar().joints(shown)
    head = joints[:, JOINT_INDEX["head"]] - joints[:, JOINT_INDEX["neck"]]
    nose = default_avatar().joints(shown)[:, JOINT_INDEX["jaw"]] - joints[:, JOINT_INDEX["head"]]
    assert np.allclose(nose[:30], nose[0], atol=1e-6)          # no head turn before the shake
    assert np.ptp(nose[30:, 0]) > 0.005                         # the face swings side to side
    assert np.allclose(head[:30], head[0], atol=1e-6)


def test_a_tilt_left_shrug_and_left_gaze_go_the_signers_way(signed):
    base = default_avatar().joints(signed.motion)[0]
    avatar = default_avatar()
    crown = int(np.argmax(avatar.rest_vertices[:, 1]))
    tilted = performed_motion(signed.replace(
        markers=(FaceMarker(MarkerKind.HEAD_TILT_LEFT, 0, 60),), mouthing=False))
    moved = avatar.forward(tilted, np.array([10])).vertices[0, crown]
    assert moved[0] - avatar.rest_vertices[crown, 0] > 0.02   # the crown goes to +x
    shrug = performed_motion(signed.replace(
        markers=(FaceMarker(MarkerKind.SHOULDERS_RAISE, 0, 60),), mouthing=False))
    lifted = avatar.joints(shrug)[10]
    for side in ("left", "right"):
        shoulder, elbow = JOINT_INDEX[f"{side}_shoulder"], JOINT_INDEX[f"{side}_elbow"]
        assert lifted[shoulder, 1] - base[shoulder, 1] > 0.005, side
        # a shrug lifts the shoulder and keeps the arm hanging as it was
        assert np.allclose(lifted[elbow] - lifted[shoulder], base[elbow] - base[shoulder],
                           atol=1e-4), side
    gaze = performed_motion(signed.replace(markers=(FaceMarker(MarkerKind.GAZE_LEFT, 0, 60),),
                                           mouthing=False))
    from scipy.spatial.transform import Rotation

    forward = Rotation.from_rotvec(gaze.leye_pose[10]).apply([0.0, 0.0, 1.0])
    assert forward[0] > 0.2                                   # looks to the signer's left


def test_layers_add_to_the_recorded_face_and_clip_to_one(signed):
    recorded = np.zeros((60, 52), np.float32)
    recorded[:, FACE_BLENDSHAPE_INDEX["browInnerUp"]] = 0.5
    recorded[:, FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]] = 0.3
    project = signed.replace(motion=signed.motion.replace(face_blendshapes=recorded),
                             markers=(FaceMarker(MarkerKind.BROWS_RAISE, 0, 60),), mouthing=False)
    shown = performed_motion(project)
    assert np.all(weight(shown, "browInnerUp") == 1.0)       # 0.5 + 0.9, clipped
    assert np.allclose(weight(shown, "mouthSmileLeft"), 0.3)  # the recorded smile stays


def test_bad_markers_are_refused_by_name():
    with pytest.raises(MotionError, match="FaceMarker.kind"):
        FaceMarker("frown_hard", 0, 5)
    with pytest.raises(MotionError, match="intensity"):
        FaceMarker(MarkerKind.BLINK, 0, 5, 1.5)
    with pytest.raises(MotionError, match="ramps do not fit"):
        FaceMarker(MarkerKind.BLINK, 0, 5, 1.0, 3, 3)
    with pytest.raises(MotionError, match="past the motion's 10 frames"):
        Project(Motion.zeros(10), markers=(FaceMarker(MarkerKind.BLINK, 5, 12),))


# ------------------------------------------------------------------ presets
@pytest.mark.parametrize("preset", BUILT_IN, ids=lambda p: p.name)
def test_presets_apply_to_a_span_of_signs(signed, preset):
    start, end = face.sign_span(signed, 0, 1)
    project = face.apply_preset(signed, preset.name, start, end)
    assert len(project.markers) == len(preset.parts)
    assert all(m.start == start and m.end == end for m in project.markers)
    assert {m.kind for m in project.markers} == {p.kind for p in preset.parts}
    shown = performed_motion(project)
    assert not np.array_equal(shown.face_blendshapes[15], signed.motion.face_blendshapes[15]) \
        or not np.array_equal(shown.body_pose[15], signed.motion.body_pose[15])


def test_a_linguists_own_preset_is_saved_and_applies_again(signed, tmp_path):
    path = tmp_path / "face_presets.json"
    markers = (FaceMarker(MarkerKind.CHEEKS_PUFF, 5, 30, 0.7, 3, 6),)
    save_user_preset(preset_from_markers("Big thing!", markers, FPS), path)
    (loaded,) = load_user_presets(path)
    assert loaded.name == "big_thing" and loaded.label == "Big thing!"
    again = loaded.markers(30, 55, FPS)
    assert again == (FaceMarker(MarkerKind.CHEEKS_PUFF, 30, 55, 0.7, 3, 6),)
    assert find_preset("big_thing", path) == loaded
    path.write_text('[{"name": "x"}]')
    with pytest.raises(UsageError, match="face_presets.json: a preset is damaged"):
        load_user_presets(path)


# ------------------------------------------------------------------ files, undo, KF2P
def test_markers_and_mouthing_round_trip_through_the_project_file(signed, tmp_path):
    project = face.apply_preset(signed, "negation", 5, 55).replace(mouthing=False)
    path = tmp_path / "p.signstudio"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.equals(project)
    assert loaded.segments[0].mouthing == signed.segments[0].mouthing
    assert not loaded.mouthing and loaded.markers == project.markers


def test_a_schema_1_file_opens_without_markers_and_with_mouthing_on(signed, tmp_path):
    path = tmp_path / "old.signstudio"
    save_project(signed.replace(segments=(Segment("A", "ase", 0, 10),)), path)
    header = rewrite_header(path, lambda h: None)
    assert header["schema_version"] == 1 and "markers" not in header  # no face data
    loaded = load_project(path)
    assert loaded.markers == () and loaded.mouthing is True


def rewrite_header(path, change) -> dict:
    """Apply ``change`` to the project.json of the project file at ``path``, in place."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(members["project.json"])
    change(header)
    members["project.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return header


def test_a_damaged_marker_names_the_file(signed, tmp_path):
    path = tmp_path / "bad.signstudio"
    save_project(signed.replace(markers=(FaceMarker(MarkerKind.BLINK, 0, 5),)), path)
    rewrite_header(path, lambda h: h["markers"][0].update(intensity=7))
    with pytest.raises(ProjectFileError, match=r"bad.signstudio: .*intensity"):
        load_project(path)


def test_undo_of_a_face_edit_restores_exactly(signed):
    edited = face.apply_preset(signed, "topic", 5, 30)
    after, inverse = apply(ReplaceProject(edited), signed)
    restored, _ = apply(inverse, after)
    assert restored.equals(signed) and not after.equals(signed)


def test_kf2p_leaves_markers_and_the_face_outside_its_range_alone(signed):
    project = face.apply_preset(signed, "negation", 5, 55)
    before = performed_motion(project)
    keys = [Keyframe.from_motion(project.motion, 20)]
    (regenerated,) = regenerate(project.motion, keys, (15, 25), backend="slerp")
    after_project = project.replace(motion=regenerated)
    after = performed_motion(after_project)
    assert after_project.markers == project.markers
    outside = np.r_[0:15, 25:60]
    assert np.array_equal(after.face_blendshapes[outside], before.face_blendshapes[outside])
    assert np.array_equal(after.body_pose[outside], before.body_pose[outside])
    assert np.array_equal(after.jaw_pose, before.jaw_pose)


def test_exports_carry_the_performed_face(signed, tmp_path):
    from engine.export.gltf import read_glb_animation

    project = face.apply_preset(signed, "yes_no_question", 5, 55)
    export_project(project, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        names = list(data["face_blendshape_names"])
        brows = data["face_blendshapes"][:, names.index("browInnerUp")]
        jaw = data["pose_jaw"]
    assert brows.max() > 0.8 and brows[0] == 0
    assert np.abs(jaw).max() > 0.15                          # the mouthing opens the jaw
    export_project(project, tmp_path / "m.glb")
    animation = read_glb_animation(tmp_path / "m.glb")
    assert np.allclose(animation.face_blendshapes, performed_motion(project).face_blendshapes,
                       atol=1e-6)


def test_face_workflow_errors_name_the_sign_and_span(signed):
    with pytest.raises(UsageError, match="sign: expected 1 to 2, got 5"):
        face.set_mouthing(signed, 4, "Haus")
    with pytest.raises(UsageError, match="span"):
        face.apply_preset(signed, "topic", 50, 70)
    project, unknown = face.set_mouthing(signed, 1, "Kind")
    assert project.segments[1].mouthing.phonemes and unknown == ()
    project, _ = face.set_mouthing(project, 0, "")
    assert project.segments[0].mouthing is None
    assert Track.HEAD is MarkerKind.HEAD_NOD.track


def test_cli_face_applies_presets_markers_and_mouthing(signed, tmp_path, capsys):
    from engine.cli import main

    path = tmp_path / "p.signstudio"
    save_project(signed, path)
    assert main(["face", str(path), "--preset", "negation", "--signs", "1-2"]) == 0
    assert main(["face", str(path), "--marker", "blink", "--frames", "40-46"]) == 0
    assert main(["face", str(path), "--mouth", "2", "Kind", "--mouthing", "off"]) == 0
    project = load_project(path)
    assert [m.kind for m in project.markers].count(MarkerKind.BLINK) == 1
    assert len(project.markers) == 4 and not project.mouthing
    assert project.segments[1].mouthing.word == "Kind"
    assert main(["face", str(path), "--preset", "topic"]) == 2       # no span
    assert main(["face", str(path), "--marker", "blink", "--frames", "50-70"]) == 2
    error = capsys.readouterr().err
    assert "need --signs or --frames" in error and "past the motion's 60 frames" in error
    assert load_project(path).equals(project)                        # failures changed nothing


# ------------------------------------------------------------------ edits keep the face
def test_retiming_and_splicing_carry_markers_and_mouthing_with_their_signs(signed):
    from engine.generate.retime import set_segment_hold, stretch_segment
    from engine.generate.splice import insert_sign

    project = signed.replace(markers=(FaceMarker(MarkerKind.HEAD_SHAKE, 30, 55, 1.0, 3, 3),
                                      FaceMarker(MarkerKind.BROWS_RAISE, 5, 30, 1.0, 3, 3)))
    held = set_segment_hold(project, 0, 10)                 # sign 1 grows by 10 frames
    shake = next(m for m in held.markers if m.kind is MarkerKind.HEAD_SHAKE)
    brows = next(m for m in held.markers if m.kind is MarkerKind.BROWS_RAISE)
    assert (shake.start, shake.end) == (held.segments[1].start, held.segments[1].end)
    assert (brows.start, brows.end) == (5, held.segments[0].end)
    shorter = set_segment_hold(held, 1, 0)                  # and the last sign shrinks
    assert shorter.markers and max(m.end for m in shorter.markers) <= shorter.motion.num_frames
    stretched = stretch_segment(project, 1, 40, backend="slerp")
    shake = next(m for m in stretched.markers if m.kind is MarkerKind.HEAD_SHAKE)
    assert (shake.start, shake.end) == (stretched.segments[1].start, stretched.segments[1].end)
    inserted = insert_sign(project, 58, Motion.zeros(20, fps=FPS), gloss="NEU", language="sgg")
    assert [s.mouthing.word if s.mouthing else None for s in inserted.segments][:2] == ["Haus", None]
    assert inserted.markers == project.markers              # before the insertion: unmoved


def test_mirroring_the_project_mirrors_sided_markers(signed):
    from engine.body.mirror import mirror_project

    project = signed.replace(markers=(FaceMarker(MarkerKind.GAZE_LEFT, 0, 10),
                                      FaceMarker(MarkerKind.HEAD_TILT_RIGHT, 0, 10),
                                      FaceMarker(MarkerKind.BLINK, 0, 10)))
    kinds = {m.kind for m in mirror_project(project).markers}
    assert kinds == {MarkerKind.GAZE_RIGHT, MarkerKind.HEAD_TILT_LEFT, MarkerKind.BLINK}


@pytest.mark.parametrize("change, expected", [
    (lambda h: h.update(segments=["x"]), "a segment: expected an object"),
    (lambda h: h.update(markers="brows"), "'markers': expected a list"),
    (lambda h: h.update(markers=[{"kind": "blink"}] * 10_001), "'markers': expected a list"),
    (lambda h: h["segments"][0]["mouthing"].update(phonemes=["a"] * 100_000),
     "Mouthing.phonemes: expected a list of at most"),
    (lambda h: h["segments"][0]["mouthing"].update(word="w" * 5000), "Mouthing.word"),
])
def test_damaged_face_data_names_the_file_and_what_was_expected(signed, tmp_path, change,
                                                                expected):
    path = tmp_path / "bad.signstudio"
    save_project(signed, path)
    rewrite_header(path, change)
    with pytest.raises(ProjectFileError, match=rf"bad.signstudio: .*{expected}"):
        load_project(path)


def test_a_damaged_presets_file_still_lets_built_ins_apply(signed, tmp_path):
    path = tmp_path / "face_presets.json"
    path.write_text('[{"name": "x", "label": "X", "parts": [{"kind": "blink", '
                    '"intensity": 1, "onset_s": Infinity, "offset_s": 0}]}]')
    with pytest.raises(UsageError, match="ramps of 0..10 s expected"):
        load_user_presets(path)
    assert find_preset("negation", path).name == "negation"
    with pytest.raises(UsageError, match="face_presets.json"):
        find_preset("x", path)


def test_the_cli_checks_a_frame_span_and_does_not_rewrite_to_list(signed, tmp_path, capsys):
    from engine.cli import main

    path = tmp_path / "p.signstudio"
    save_project(signed, path)
    before = path.stat().st_mtime_ns
    assert main(["face", str(path), "--list"]) == 0
    assert main(["face", str(path)]) == 2
    assert main(["face", str(path), "--marker", "blink", "--frames", "46-40"]) == 2
    error = capsys.readouterr().err
    assert "nothing to change" in error and "START < END, got 46-40" in error
    assert path.stat().st_mtime_ns == before
