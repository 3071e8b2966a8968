"""Reading real .pose clips (spoken-to-signed's lexicon) into KeypointSequence, each
quirk checked on real data; KeypointSequence validation and helpers."""
import math

import numpy as np
import pytest

pytest.importorskip("pose_format")
pytest.importorskip("spoken_to_signed")

from pose_format import Pose
from pose_format.numpy import NumPyPoseBody

from engine.data import KeypointError, KeypointMetadata, KeypointSequence
from engine.data.fingerspelling import load_index
from engine.data.keypoints import BODY_INDEX, BODY_MIRROR, COMPONENT_SIZES, FACE_MIRROR
from engine.data.pose_reader import (
    KeypointFileError, confidence_from_mask, dominant_hand_stored_as, mark_missing_hands, read_fps,
    read_pose_file,
)
from engine.motion.errors import ProjectFileError

L_SH, R_SH = BODY_INDEX["LEFT_SHOULDER"], BODY_INDEX["RIGHT_SHOULDER"]
L_WR, R_WR = BODY_INDEX["LEFT_WRIST"], BODY_INDEX["RIGHT_WRIST"]


@pytest.fixture(scope="module")
def index():
    return load_index()


@pytest.fixture(scope="module")
def ase_a(index):
    return index.find("ase", "A")


@pytest.fixture(scope="module")
def ise_entry(index):
    return index.for_language("ise")[0]


@pytest.fixture(scope="module")
def gsg_entry(index):
    return index.for_language("gsg")[0]


def _write(pose: Pose, path):
    with open(path, "wb") as f:
        pose.write(f)
    return path


def _read_raw(path) -> Pose:
    with open(path, "rb") as f:
        return Pose.read(f.read())


def _median_shoulders(seq):
    return np.median(seq.body[:, L_SH], axis=0), np.median(seq.body[:, R_SH], axis=0)


def _hand_matches_body_wrist(seq, side):
    """Median distance between a hand component's wrist and the body's wrist landmark
    of the same side, over frames where both are seen (shoulder widths)."""
    hand = seq.points(f"{side}_hand")
    body_index = L_WR if side == "left" else R_WR
    seen = (seq.confidence[f"{side}_hand"][:, 0] > 0) & (seq.confidence["body"][:, body_index] > 0.5)
    assert seen.any()
    return float(np.median(np.linalg.norm(hand[seen, 0, :2] - seq.body[seen, body_index, :2], axis=1)))


# --- real clips: units, frame, hands, fps --------------------------------------------

def test_ase_letter_a_is_in_the_shoulder_frame(index, ase_a):
    seq = index.read(ase_a)
    assert seq.fps == 25.0 and seq.metadata.sign_language == "ase" and seq.metadata.gloss == "A"
    left, right = _median_shoulders(seq)
    # One unit = shoulder width, origin at the shoulder midpoint (package had ~200 units at ~(250, 250)).
    assert np.linalg.norm(left[:2] - right[:2]) == pytest.approx(1.0, abs=1e-3)
    assert np.abs((left + right)[:2] / 2).max() < 1e-3
    assert seq.metadata.source_scale == pytest.approx(200, abs=15)
    # +X is the subject's left, +Y is up (nose above the shoulders, hips below).
    assert left[0] > 0.4 and right[0] < -0.4
    assert np.median(seq.body[:, BODY_INDEX["NOSE"], 1]) > 0.3
    assert "spoken-to-signed normalised units" in " ".join(seq.metadata.notes)
    # The source transform inverts the normalisation back to the file's units.
    raw = _read_raw(index.path_of(ase_a))
    ox, oy, oz = seq.metadata.source_origin
    s = seq.metadata.source_scale
    back = np.array([ox + s * seq.body[0, L_SH, 0], oy - s * seq.body[0, L_SH, 1]])
    np.testing.assert_allclose(back, np.asarray(raw.body.data[0, 0, L_SH, :2]), atol=1e-2)


def test_ase_hands_left_removed_right_present_and_2d(index, ase_a):
    seq = index.read(ase_a)
    assert not seq.present("left_hand").any()  # zeroed by the producer for ase
    assert seq.present("right_hand").all()
    assert (seq.left_hand == 0).all()
    assert (seq.confidence["body"][:, L_WR] == 0).all()  # the body's left wrist too
    assert any("removed by the data's producer" in n for n in seq.metadata.notes)
    # Hand z is degenerate in the lexicon: flagged 2D, z kept (tiny, not zero).
    assert seq.metadata.is_2d
    assert seq.right_hand[..., 2].std() < 0.01 < seq.right_hand[..., 1].std()
    # Hand size: wrist -> middle MCP, ~0.2 shoulder widths; NaN where the hand is missing.
    size = seq.hand_size("right")
    assert size.shape == (seq.num_frames,) and np.all((size > 0.1) & (size < 0.5))
    assert np.isnan(seq.hand_size("left")).all()
    # The hand component and the body's own wrist landmark agree: one coordinate frame.
    assert _hand_matches_body_wrist(seq, "right") < 0.1


def test_confidence_is_0_1_for_hands_and_face_and_continuous_for_body(index, ase_a):
    seq = index.read(ase_a)
    for name in ("face", "left_hand", "right_hand"):
        assert set(np.unique(seq.confidence[name])) <= {0.0, 1.0}
    body = seq.confidence["body"]
    assert 0 <= body.min() and body.max() <= 1 and len(np.unique(body)) > 10
    # Missing points sit at exactly 0.
    assert (seq.body[body == 0] == 0).all()


def test_ise_signing_hand_is_mirrored_to_the_right(index, ise_entry):
    assert dominant_hand_stored_as("ise") == "left" and dominant_hand_stored_as("ase") == "right"
    assert dominant_hand_stored_as(None) is None
    raw = index.read(ise_entry, mirror_left_dominant=False)
    seq = index.read(ise_entry)
    # As stored: the signing hand is the left one.
    assert raw.present("left_hand").all() and not raw.present("right_hand").any()
    assert any("not mirrored" in n for n in raw.metadata.notes)
    # Mirrored: it is the right hand, reflected in X (a geometric right hand now).
    assert seq.present("right_hand").all() and not seq.present("left_hand").any()
    expected = raw.left_hand * np.array([-1, 1, 1], np.float32)
    np.testing.assert_array_equal(seq.right_hand, expected)
    assert any("mirrored left-right" in n for n in seq.metadata.notes)
    # The body was mirrored AND relabelled: the left shoulder is still on +X, and the
    # right hand sits at the body's right wrist (a swap without the body relabel, or a
    # reflection without the swap, would break this).
    left, right = _median_shoulders(seq)
    assert left[0] > 0.4 and right[0] < -0.4
    assert _hand_matches_body_wrist(seq, "right") < 0.15
    assert _hand_matches_body_wrist(raw, "left") < 0.15
    np.testing.assert_array_equal(seq.body[:, R_WR, 0], -raw.body[:, L_WR, 0])


def test_gsg_is_30_fps_with_the_left_hand_removed(index, gsg_entry):
    seq = index.read(gsg_entry)
    assert seq.fps == 30.0
    assert not seq.present("left_hand").any() and seq.present("right_hand").all()


def test_ntsc_fps_is_read_from_the_header_and_snapped(index):
    seq = index.read(index.for_language("bzs")[0])
    assert seq.fps == 30000 / 1001  # stored as float32 29.970029830932617


@pytest.mark.parametrize("stored, expected", [
    (25.0, 25.0), (24.0, 24.0), (np.float32(30000 / 1001), 30000 / 1001),
    (np.float32(24000 / 1001), 24000 / 1001), (12.5, 12.5),
])
def test_read_fps_snaps_float32_noise(stored, expected):
    class FakeBody:
        fps = stored

    class FakePose:
        body = FakeBody

    assert read_fps(FakePose, "x.pose") == expected


def test_read_fps_rejects_nonpositive():
    class FakePose:
        class body:
            fps = 0.0

    with pytest.raises(KeypointFileError, match="fps"):
        read_fps(FakePose, "x.pose")


# --- layout, people, missing points --------------------------------------------------

def test_components_are_found_by_name_not_offset(index, ase_a, tmp_path):
    pose = _read_raw(index.path_of(ase_a))
    reordered = pose.get_components(
        ["RIGHT_HAND_LANDMARKS", "POSE_WORLD_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS",
         "POSE_LANDMARKS"]
    )
    a = read_pose_file(index.path_of(ase_a), sign_language="ase")
    b = read_pose_file(_write(reordered, tmp_path / "reordered.pose"), sign_language="ase")
    for name in a.components:
        np.testing.assert_array_equal(a.points(name), b.points(name))
        np.testing.assert_array_equal(a.confidence[name], b.confidence[name])


def test_world_landmarks_are_optional(index, ase_a, tmp_path):
    pose = _read_raw(index.path_of(ase_a))
    no_world = pose.get_components(
        ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    )
    seq = read_pose_file(_write(no_world, tmp_path / "no_world.pose"))
    assert seq.body_world is None and "body_world" not in seq.confidence


def test_a_pose_without_holistic_components_is_a_clear_error(index, ase_a, tmp_path):
    pose = _read_raw(index.path_of(ase_a)).get_components(["POSE_LANDMARKS", "RIGHT_HAND_LANDMARKS"])
    path = _write(pose, tmp_path / "body_only.pose")
    with pytest.raises(KeypointFileError) as err:
        read_pose_file(path)
    assert err.value.path == path and "FACE_LANDMARKS" in str(err.value)
    assert "LEFT_HAND_LANDMARKS" in str(err.value) and "POSE_LANDMARKS (33)" in str(err.value)


def test_multiple_people_reads_person_0_and_says_so(index, ase_a, tmp_path):
    pose = _read_raw(index.path_of(ase_a))
    data = np.ma.concatenate([pose.body.data, pose.body.data * 0.5], axis=1)
    conf = np.concatenate([pose.body.confidence, pose.body.confidence], axis=1)
    two = Pose(pose.header, NumPyPoseBody(fps=pose.body.fps, data=data, confidence=conf))
    path = _write(two, tmp_path / "two.pose")
    seq = read_pose_file(path, sign_language="ase")
    assert any("2 people; read person 0" in n for n in seq.metadata.notes)
    np.testing.assert_array_equal(seq.body, read_pose_file(index.path_of(ase_a), sign_language="ase").body)
    with pytest.raises(KeypointFileError, match="person 2 requested"):
        read_pose_file(path, person=2)


def test_zeroed_hand_frames_become_missing(index, gsg_entry, tmp_path):
    pose = _read_raw(index.path_of(gsg_entry))
    data = np.ma.array(pose.body.data, copy=True)
    start = 511 + 21  # RIGHT_HAND_LANDMARKS in this file's header; the reader finds it by name
    assert pose.header.components[3].name == "RIGHT_HAND_LANDMARKS"
    data[2, 0, start:start + 21] = 0.0  # zeroed, confidence left at 1: a "removed" hand
    zeroed = Pose(pose.header, NumPyPoseBody(fps=pose.body.fps, data=data, confidence=pose.body.confidence))
    seq = read_pose_file(_write(zeroed, tmp_path / "zeroed.pose"))
    assert not seq.present("right_hand")[2] and seq.present("right_hand")[[1, 3]].all()


def test_mark_missing_hands_unit():
    pts = np.ones((3, 21, 3), np.float32)
    conf = np.ones((3, 21), np.float32)
    pts[1] = 0.0
    conf[2] = 0.0
    out_pts, out_conf = mark_missing_hands(pts, conf)
    assert out_conf[:, 0].tolist() == [1.0, 0.0, 0.0]
    assert (out_pts[2] == 0).all() and (out_pts[0] == 1).all()


def test_confidence_from_mask_unit():
    data = np.ma.array(np.ones((2, 3, 3), np.float32), mask=False)
    data[0, 1] = np.ma.masked
    conf = np.array([[1.0, 1.0, 0.5], [0.0, np.nan, 1.5]], np.float32)
    values, out = confidence_from_mask(data, conf)
    assert out.tolist() == [[1.0, 0.0, 0.5], [0.0, 0.0, 1.0]]
    assert (values[0, 1] == 0).all() and (values[1, :2] == 0).all() and (values[0, 0] == 1).all()


# --- bad files -----------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(KeypointFileError, match="file not found"):
        read_pose_file(tmp_path / "nope.pose")


def test_not_a_pose_file(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    with pytest.raises(KeypointFileError, match=r"not a \.pose file"):
        read_pose_file(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pose"
    path.write_bytes(b"")
    with pytest.raises(KeypointFileError, match="empty"):
        read_pose_file(path)


@pytest.mark.parametrize("garbage", [b"hello world", bytes(range(256)) * 8, b"\x00" * 1000])
def test_garbage_bytes(tmp_path, garbage):
    path = tmp_path / "garbage.pose"
    path.write_bytes(garbage)
    with pytest.raises(KeypointFileError, match="not a readable .pose file") as err:
        read_pose_file(path)
    assert isinstance(err.value, ProjectFileError) and str(path) in str(err.value)


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.999])
def test_truncated_real_file(index, ase_a, tmp_path, keep):
    raw = index.path_of(ase_a).read_bytes()
    path = tmp_path / "truncated.pose"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(KeypointFileError, match="truncated or corrupt"):
        read_pose_file(path)


# --- KeypointSequence ----------------------------------------------------------------

def _synthetic(num_frames=4, fps=25.0, rng=None, **overrides):
    rng = rng or np.random.default_rng(0)
    fields = {
        name: rng.normal(size=(num_frames, n, 3)).astype(np.float32) for name, n in COMPONENT_SIZES.items()
    }
    conf = {name: np.ones((num_frames, n), np.float32) for name, n in COMPONENT_SIZES.items()}
    fields.update(overrides.pop("fields", {}))
    conf.update(overrides.pop("conf", {}))
    return KeypointSequence(fps=fps, confidence=conf, **fields, **overrides)


def test_sequence_is_read_only_and_does_not_alias():
    body = np.zeros((2, 33, 3), np.float32)
    seq = _synthetic(2, fields={"body": body})
    body[0, 0, 0] = 5.0
    assert seq.body[0, 0, 0] == 0.0
    with pytest.raises(ValueError):
        seq.body[0, 0, 0] = 1.0
    with pytest.raises(TypeError):
        seq.confidence["body"] = np.zeros((2, 33), np.float32)


@pytest.mark.parametrize("overrides, message", [
    ({"fields": {"body": np.zeros((4, 32, 3))}}, r"KeypointSequence\.body: expected shape \(F, 33, 3\)"),
    ({"fields": {"face": np.full((4, 478, 3), np.nan)}}, r"KeypointSequence\.face: contains NaN"),
    ({"fields": {"left_hand": np.zeros((3, 21, 3))}}, "disagree on the frame count"),
    ({"conf": {"right_hand": np.full((4, 21), 1.5)}},
     r"confidence\['right_hand'\]: values must lie in \[0, 1\]"),
    ({"conf": {"body": np.ones((4, 21))}}, r"confidence\['body'\]: expected shape \(F, 33\)"),
    ({"fps": 0.0}, r"KeypointSequence\.fps"),
    ({"fps": math.nan}, r"KeypointSequence\.fps"),
    ({"fields": {"body_world": np.zeros((4, 33, 3))}},
     r"confidence: expected keys .*missing \['body_world'\]"),
])
def test_validation_names_the_field(overrides, message):
    with pytest.raises(KeypointError, match=message):
        _synthetic(**overrides)


def test_swap_hands_relabels_only():
    seq = _synthetic()
    swapped = seq.swap_hands()
    np.testing.assert_array_equal(swapped.left_hand, seq.right_hand)
    np.testing.assert_array_equal(swapped.right_hand, seq.left_hand)
    np.testing.assert_array_equal(swapped.body, seq.body)


def test_mirror_twice_is_identity_and_maps_landmarks_to_partners():
    seq = _synthetic(rng=np.random.default_rng(3))
    once = seq.mirrored()
    twice = once.mirrored()
    for name in seq.components:
        np.testing.assert_array_equal(twice.points(name), seq.points(name))
    np.testing.assert_array_equal(once.body[:, L_SH], seq.body[:, R_SH] * [-1, 1, 1])
    assert BODY_MIRROR[BODY_INDEX["MOUTH_LEFT"]] == BODY_INDEX["MOUTH_RIGHT"]
    assert BODY_MIRROR[BODY_INDEX["NOSE"]] == BODY_INDEX["NOSE"]


def test_face_mirror_table_maps_a_real_face_onto_its_mirror(index, ase_a):
    seq = index.read(ase_a)
    face = np.median(seq.face[:, :, :2], axis=0).astype(np.float64)
    face -= face.mean(axis=0)
    reflected = face * [-1, 1]
    err_table = np.linalg.norm(reflected[FACE_MIRROR] - face, axis=1).mean()
    err_none = np.linalg.norm(reflected - face, axis=1).mean()
    face_width = np.ptp(face[:, 0])
    assert err_table < 0.05 * face_width and err_table < 0.2 * err_none
    assert (FACE_MIRROR[FACE_MIRROR] == np.arange(478)).all()
    assert FACE_MIRROR[468] == 473  # the two iris centres trade places


def test_slice_and_its_errors():
    seq = _synthetic(10)
    part = seq.slice(2, 5)
    assert part.num_frames == 3
    np.testing.assert_array_equal(part.face, seq.face[2:5])
    assert seq.slice(-2).num_frames == 2
    with pytest.raises(KeypointError, match="selects no frames"):
        seq.slice(5, 5)


def test_resample_is_linear_and_confidence_takes_the_min():
    body = np.zeros((3, 33, 3), np.float32)
    body[:, 0, 0] = [0.0, 1.0, 2.0]
    conf = np.ones((3, 33), np.float32)
    conf[2, 0] = 0.0  # point 0 missing on the last frame
    body[2, 0] = 0.0
    seq = _synthetic(3, fps=10.0, fields={"body": body}, conf={"body": conf})
    out = seq.resample(20.0)
    assert out.num_frames == 5 and out.fps == 20.0
    np.testing.assert_allclose(out.body[:3, 0, 0], [0.0, 0.5, 1.0])
    assert out.confidence["body"][:, 0].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert (out.body[3:, 0] == 0).all()  # missing -> 0, never half-way to the origin
    assert seq.resample(10.0).num_frames == 3


def test_resample_real_clip_25_to_30(index, ase_a):
    seq = index.read(ase_a)
    out = seq.resample(30.0)
    assert out.fps == 30.0
    assert out.duration == pytest.approx(seq.duration, abs=2 / 25)
    assert out.metadata == seq.metadata


def test_metadata_defaults():
    meta = KeypointMetadata()
    assert meta.units == "shoulder_width" and not meta.is_2d and meta.notes == ()
