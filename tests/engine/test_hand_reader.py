"""The fitter's learned hand reader: its guess in the fitter's angles, its pull on the
fit, the shipped checkpoint, and its training."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.body import default_avatar
from engine.body.reference_poses import RIGHT_HAND_SHAPES, mirror_hand_pose
from engine.body.tips import hand_points
from engine.checkpoint import CheckpointError
from engine.data.fit import fit_keypoints
from engine.data.fit.hand_reader import (
    FINGER_JOINTS, HandReader, HandReaderNet, default_checkpoint_path, euler_guess,
    load_hand_reader, reading_features, shipped_hand_reader,
)
from engine.data.fit.skeleton import skeleton_for
from engine.learn.train_hand_reader import HandReaderTrainConfig, fit_hand_reader
from engine.metrics.joint_error import rotation_angle_deg
from tests.engine.test_fitting import keypoints_from_motion, _raised_arms


def synthetic_sequence(avatar, shape: str, frames: int):
    """Both raised hands showing ``shape`` (the left one mirrored), projected from the
    front as 2D keypoints: (the KeypointSequence, the Motion)."""
    from engine.body.reference_poses import mirror_hand_pose

    right = np.repeat(RIGHT_HAND_SHAPES[shape][None], frames, 0)
    motion = _raised_arms(frames).replace(right_hand_pose=right,
                                          left_hand_pose=mirror_hand_pose(right))
    return keypoints_from_motion(motion, skeleton_for(avatar), avatar), motion


def _rotvec_of(skeleton, side, angles_by_slot, frames):
    """Finger axis-angles (frames, 15, 3) of Euler angles {slot: (frames, 3)} (R = R1 R2 R3)."""
    from scipy.spatial.transform import Rotation

    rotvec = np.zeros((frames, 15, 3))
    for number, joint in enumerate(FINGER_JOINTS):
        slot = skeleton.euler_slot(f"{side}_{joint}")
        local = np.repeat(np.eye(3)[None], frames, 0)
        for axis, angle in zip(skeleton.euler_axes[slot], angles_by_slot[slot].T):
            local = local @ Rotation.from_rotvec(axis[None] * angle[:, None]).as_matrix()
        rotvec[:, number] = Rotation.from_matrix(local).as_rotvec()
    return rotvec


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_guess_is_given_back_in_the_fitters_own_angles(side):
    skeleton = skeleton_for(default_avatar())
    rng = np.random.default_rng(3)
    angles = {}
    for joint in FINGER_JOINTS:
        slot = skeleton.euler_slot(f"{side}_{joint}")
        lo, hi = skeleton.euler_limits[slot, :, 0], skeleton.euler_limits[slot, :, 1]
        # Over the whole range: a finger bent past 90 degrees has a second set of
        # angles (an 80-degree bend with two half-turn twists) that must not be taken.
        angles[slot] = lo + (hi - lo) * rng.uniform(0.0, 1.0, (64, 3))
        angles[slot][0] = hi
    guess = euler_guess(skeleton, side, _rotvec_of(skeleton, side, angles, frames=64))
    for slot, expected in angles.items():
        np.testing.assert_allclose(guess[slot], expected, atol=1e-6)
    assert max(a[:, 1].max() for a in angles.values()) > np.radians(100)


def _fist_reader() -> HandReader:
    """A reader that reads every hand as the reference fist, whatever it sees."""
    net = HandReaderNet(width=4, layers=1)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        net.layers[-1].bias.copy_(torch.from_numpy(RIGHT_HAND_SHAPES["fist"].reshape(-1)))
    return HandReader(net)


def test_a_left_hand_is_read_as_the_mirror_of_a_right_hand():
    """The mirror image of a right hand's points, read as a left hand, gives the mirror
    of the right hand's reading (the fit below checks the convention on the body)."""
    points = np.random.default_rng(0).normal(size=(2, 21, 3))
    reader = HandReader(HandReaderNet(width=8, layers=2))
    mirrored = points * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(reader.read(mirrored, "left"),
                               reader.read(points, "right") * np.array([1.0, -1.0, -1.0]),
                               atol=1e-6)


def test_features_are_wrist_relative_in_hand_lengths():
    points = np.random.default_rng(1).normal(size=(3, 21, 3))
    features = reading_features(points)
    moved_and_scaled = reading_features(2.5 * points + np.array([4.0, -1.0, 7.0]))
    np.testing.assert_allclose(features, moved_and_scaled, atol=1e-5)
    assert features.shape == (3, 42)
    np.testing.assert_allclose(np.linalg.norm(features.reshape(3, 21, 2)[:, 9], axis=-1), 1.0,
                               atol=1e-5)


def test_the_fit_is_pulled_toward_the_readers_guess_and_says_so():
    """The same keypoints (a flat hand) fitted with and without a reader that reads a
    fist: the reader's pull curls the fingers, and the quality says what guided it."""
    avatar = default_avatar()
    seq, truth = synthetic_sequence(avatar, shape="flat", frames=6)
    plain = fit_keypoints(seq, iterations=60, hand_reader=None, face=False)
    pulled = fit_keypoints(seq, iterations=60, hand_reader=_fist_reader(), face=False)
    fist = RIGHT_HAND_SHAPES["fist"]
    to_fist = [rotation_angle_deg(result.motion.right_hand_pose,
                                np.broadcast_to(fist, result.motion.right_hand_pose.shape)).mean()
               for result in (plain, pulled)]
    assert to_fist[1] < to_fist[0] - 5.0
    # The left hand is pulled toward the mirror image of the fist, not the fist itself.
    left_fist = mirror_hand_pose(fist)
    to_left_fist = [rotation_angle_deg(result.motion.left_hand_pose,
                                     np.broadcast_to(left_fist, result.motion.left_hand_pose.shape)
                                     ).mean() for result in (plain, pulled)]
    assert to_left_fist[1] < to_left_fist[0] - 5.0
    assert plain.quality["hand_reader"] == "not used: switched off"
    assert pulled.quality["hand_reader_frames"] == seq.num_frames
    with pytest.raises(ValueError, match="hand_reader"):
        fit_keypoints(seq, iterations=1, hand_reader="mine", face=False)


def test_the_shipped_reader_is_read_from_the_assets_and_guides_the_default_fit():
    reader = shipped_hand_reader()
    assert reader is not None, default_checkpoint_path()
    manifest = reader.manifest
    assert manifest["kind"] == "hand_reader" and "ase" in manifest["training"]["held_out_languages"]
    assert manifest["metrics"]["held_out_readings"] > 500
    # The default training settings are the shipped reader's.
    from dataclasses import asdict
    default = asdict(HandReaderTrainConfig())
    assert manifest["training"] == default | {"held_out_languages": list(default["held_out_languages"])}
    avatar = default_avatar()
    # It tells a flat hand from a fist in the points of both hands, seen from the front.
    for shape, other in (("flat", "fist"), ("fist", "flat")):
        seq, _ = synthetic_sequence(avatar, shape=shape, frames=1)
        for side in ("right", "left"):
            guess = reader.read(seq.points(f"{side}_hand"), side)[0]
            if side == "left":
                guess = guess * np.array([1.0, -1.0, -1.0])  # compare as a right hand
            to = {name: rotation_angle_deg(guess, RIGHT_HAND_SHAPES[name]).mean()
                  for name in (shape, other)}
            assert to[shape] < to[other], (shape, side, to)
    seq, _ = synthetic_sequence(avatar, shape="fist", frames=4)
    assert fit_keypoints(seq, iterations=5, face=False).quality["hand_reader_frames"] == 4


def test_without_the_shipped_reader_the_fit_says_so_and_a_damaged_one_is_refused_by_name(
        tmp_path, monkeypatch):
    import engine.data.fit.hand_reader as hand_reader

    seq, _ = synthetic_sequence(default_avatar(), shape="fist", frames=2)
    monkeypatch.setattr(hand_reader, "default_checkpoint_path", lambda: tmp_path / "none.pt")
    fitted = fit_keypoints(seq, iterations=2, face=False)
    assert fitted.quality["hand_reader"] == "not used: no hand reader in the assets"
    damaged = tmp_path / "hand_reader.pt"
    damaged.write_bytes(default_checkpoint_path().read_bytes()[:-200])
    monkeypatch.setattr(hand_reader, "default_checkpoint_path", lambda: damaged)
    with pytest.raises(CheckpointError, match="hand_reader.pt.*remove the file"):
        fit_keypoints(seq, iterations=2, face=False)


def test_training_learns_a_reading_of_projected_hands(tmp_path):
    """Readings here are the avatar's own hand points projected from the front (no
    MediaPipe: that is the workflow's test): the trained reader must guess the
    held-out hands' fingers better than their mean pose does."""
    avatar = default_avatar()
    rng = np.random.default_rng(0)
    shapes = np.stack(list(RIGHT_HAND_SHAPES.values()))
    from engine.body.reference_poses import signing_pose

    base = signing_pose("flat")
    share = rng.random((400, len(shapes)))
    poses = np.einsum("ns,sjk->njk", share / share.sum(1, keepdims=True), shapes)
    poses = (poses + rng.normal(0, 0.03, poses.shape)).astype(np.float32)
    from engine.motion import Motion

    motion = Motion.concatenate([base.replace(right_hand_pose=pose[None]) for pose in poses])
    points = hand_points(avatar, motion, "right")
    from engine.learn.config import TrainConfig

    config = HandReaderTrainConfig(
        train=TrainConfig(steps=600, batch_size=64, lr=3e-3, checkpoint_every=300), renders=400)
    result = fit_hand_reader(points, poses, tmp_path / "reader.pt", config, data_licence="test")
    reader = load_hand_reader(result.path)
    held = np.arange(len(poses)) % 10 == 0
    error = rotation_angle_deg(poses[held], reader.read(points[held])).mean()
    baseline = rotation_angle_deg(poses[held], np.broadcast_to(poses[~held].mean(0), poses[held].shape)
                                ).mean()
    assert error < 0.6 * baseline
    assert reader.manifest["metrics"]["held_out_finger_error_deg"] == pytest.approx(error, rel=1e-4)


def _letters_lexicon(folder):
    """A real SQLite lexicon of three letters (flat, fist, V) in DGS and in ASL."""
    from engine.body.reference_poses import signing_pose
    from engine.data.lexicon import LexiconEntry, LexiconStore
    from engine.motion import Motion

    path = folder / "lexicon.sqlite"
    with LexiconStore(path) as store:
        for shape in ("flat", "fist", "asl_v"):
            clip = Motion.concatenate([signing_pose(shape)] * 8)
            for language in ("gsg", "ase"):
                store.add(LexiconEntry(
                    gloss=shape.upper(), language=language, words=(shape,), motion=clip,
                    kind="letter", source_kind="manual", source=f"test/{shape}",
                    source_hash=f"{language}-{shape}", licence=f"test licence {language}"))
    return path


@pytest.mark.slow
@pytest.mark.gl
def test_rendering_cancelled_halfway_continues_where_it_stopped(tmp_path, monkeypatch):
    """Readings saved when the rendering is cancelled are continued, not made again, and
    the whole equals one uninterrupted rendering; a saved part of another rendering is
    not taken."""
    import engine.export.hand_readings as hand_readings
    from engine.data.lexicon import LexiconStore
    from engine.jobs import Cancelled, CancelToken

    monkeypatch.setattr(hand_readings, "SAVE_EVERY", 4)
    saves, cancel = [], CancelToken()

    def save(readings):
        saves.append(readings)
        cancel.cancel()  # after the first save, at 4 renders

    with LexiconStore(_letters_lexicon(tmp_path), read_only=True) as store:
        with pytest.raises(Cancelled):
            hand_readings.render_hand_readings(store, ["gsg"], 10, save=save, cancel=cancel)
        assert [s.rendered for s in saves] == [4, 4]
        hand_readings.save_readings(tmp_path / "part.npz", saves[-1])
        part = hand_readings.load_readings(tmp_path / "part.npz")
        reports = []
        continued = hand_readings.render_hand_readings(
            store, ["gsg"], 10, start=part,
            progress=lambda done, total, message="": reports.append(done))
        whole = hand_readings.render_hand_readings(store, ["gsg"], 10)
        messages = []
        other = hand_readings.render_hand_readings(
            store, ["gsg"], 10, seed=2, start=part,
            progress=lambda done, total, message="": messages.append(message))

        class CtrlCAtTheSeventhRender(CancelToken):
            """A command-line run interrupted by Ctrl+C while render 7 is made."""

            def __init__(self):
                super().__init__()
                self.renders = 0

            def raise_if_cancelled(self):
                self.renders += 1
                if self.renders == 7:
                    raise KeyboardInterrupt

        interrupted = []
        with pytest.raises(KeyboardInterrupt):
            hand_readings.render_hand_readings(store, ["gsg"], 10, save=interrupted.append,
                                               cancel=CtrlCAtTheSeventhRender())
    assert reports[0] == 4 and continued.rendered == whole.rendered == 10
    assert len(whole.points) >= 8
    np.testing.assert_array_equal(continued.points, whole.points)
    np.testing.assert_array_equal(continued.poses, whole.poses)
    assert "rendering them again" in messages[0]
    assert not any("continuing" in message for message in messages)
    assert other.rendered == 10 and other.key != part.key
    # Ctrl+C: the six renders made are kept, as the uninterrupted run made them.
    assert [s.rendered for s in interrupted] == [4, 6]
    kept = len(interrupted[-1].points)
    np.testing.assert_array_equal(interrupted[-1].poses, whole.poses[:kept])
    assert kept == int(np.isin(whole.poses[:, 0, 0], interrupted[-1].poses[:, 0, 0]).sum())


@pytest.mark.slow
@pytest.mark.gl
def test_resuming_the_training_does_not_render_again(tmp_path):
    """Cancelled while training, ``--resume`` takes the saved readings and the resume
    file: no hand is rendered again, the reader is written and the saved readings go."""
    from engine.jobs import Cancelled, CancelToken
    from engine.workflows.hand_reader import readings_path
    from engine.workflows.train import TrainOptions, train_model

    lexicon, out = _letters_lexicon(tmp_path), tmp_path / "reader.pt"
    settings = ("renders=10", "train.steps=40", "train.batch_size=4", "train.checkpoint_every=10")
    cancel = CancelToken()

    def cancel_once_training(done, total, message=""):
        if message.startswith("training the hand reader") and done > 0.95 * total:
            cancel.cancel()

    with pytest.raises(Cancelled):
        train_model(TrainOptions(model="hand_reader", out=out, lexicon=lexicon, settings=settings),
                    progress=cancel_once_training, cancel=cancel)
    assert readings_path(out).exists() and not out.exists()
    reports = []
    result = train_model(TrainOptions(model="hand_reader", out=out, lexicon=lexicon,
                                      settings=settings, resume=True),
                         progress=lambda done, total, message="": reports.append(message))
    assert not any("rendered and read" in message for message in reports)
    assert any("all 10 renders were saved" in message for message in reports)
    assert any("continued from 10 renders" in note for note in result.notes)
    assert load_hand_reader(out).manifest["step"] == 40
    assert not readings_path(out).exists()

    # Saved readings of other settings are not continued, nor is the training on them.
    with pytest.raises(Cancelled):
        train_model(TrainOptions(model="hand_reader", out=out, lexicon=lexicon, settings=settings),
                    progress=cancel_once_training, cancel=(cancel := CancelToken()))
    other = tuple(s.replace("renders=10", "renders=12") for s in settings)
    trained = []
    result = train_model(TrainOptions(model="hand_reader", out=out, lexicon=lexicon,
                                      settings=other, resume=True),
                         progress=lambda done, total, message="": trained.append(done / total)
                         if message.startswith("training") else None)
    assert any("rendered again and the training started over" in note for note in result.notes)
    assert trained[0] < 0.95  # from the first steps, not from the cancelled run's last
    assert load_hand_reader(out).manifest["training"]["renders"] == 12

    readings_path(out).write_bytes(b"not readings")
    with pytest.raises(ValueError, match="reader.readings.npz.*remove it"):
        train_model(TrainOptions(model="hand_reader", out=out, lexicon=lexicon,
                                 settings=settings, resume=True))


@pytest.mark.slow
@pytest.mark.gl
def test_train_hand_reader_renders_letters_reads_them_and_writes_a_reader(tmp_path):
    """The whole use case on a real SQLite lexicon: render the avatar in its letters,
    read the renders with real MediaPipe, train, write a reader the fitter can load."""
    from engine.jobs import CancelToken
    from engine.workflows.train import TrainOptions, train_model

    path = _letters_lexicon(tmp_path)
    reports = []
    options = TrainOptions(model="hand_reader", out=tmp_path / "reader.pt", lexicon=path,
                           settings=("renders=24", "train.steps=20", "train.batch_size=8",
                                     "inventory_share=0.5"))
    train_model(options, progress=lambda done, total, message="": reports.append(message),
                cancel=CancelToken())
    reader = load_hand_reader(tmp_path / "reader.pt")
    manifest = reader.manifest
    # ASL is held out by default: only the DGS letters were rendered.
    assert "test licence gsg" in manifest["data_licence"]
    assert "test licence ase" not in manifest["data_licence"]
    assert manifest["training"]["renders"] == 24 and manifest["step"] == 20
    assert manifest["training"]["inventory_share"] == 0.5
    assert manifest["metrics"]["held_out_readings"] >= 1
    assert any("rendered and read 24 hands" in message for message in reports)
    assert reader.read(np.random.default_rng(0).normal(size=(2, 21, 3))).shape == (2, 15, 3)

    cancel = CancelToken()
    cancel.cancel()
    from engine.jobs import Cancelled
    with pytest.raises(Cancelled):
        train_model(TrainOptions(model="hand_reader", out=tmp_path / "other.pt", lexicon=path),
                    cancel=cancel)
    assert not (tmp_path / "other.pt").exists()


def test_the_inventory_offers_the_notations_handshapes_once_each():
    from engine.export.hand_readings import inventory_hand_poses
    from engine.notation.handshapes import hand_pose, handshape_from_names

    avatar = default_avatar()
    poses = inventory_hand_poses(avatar)
    assert len(poses) > 100
    assert len({np.round(pose, 3).tobytes() for pose in poses}) == len(poses)
    for names in ("fist", "finger2 pinky", "finger23spread", "pinchall", "flathand fingerbendmod"):
        wanted = hand_pose(handshape_from_names(names), "right", avatar)
        assert min(np.abs(pose - wanted).max() for pose in poses) < 1e-6, names


def test_held_out_languages_reach_the_readers_training_settings(tmp_path):
    from engine.workflows.train import TrainOptions, training_config

    config = training_config(TrainOptions(model="hand_reader", out=tmp_path / "r.pt",
                                          held_out_languages=("gsg", "ase")))
    assert config.held_out_languages == ("gsg", "ase")


def test_a_new_reader_refits_the_package_clips(tmp_path, monkeypatch):
    """A clip's source hash takes in the reader's bytes, so `lexicon build` refits what a
    new reader would fit differently."""
    import engine.data.fit.hand_reader as hand_reader
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon_build import fitted_hash

    index = load_index()
    clip = index.path_of(index.find("ase", "A"))
    reader = tmp_path / "hand_reader.pt"
    reader.write_bytes(default_checkpoint_path().read_bytes())
    monkeypatch.setattr(hand_reader, "default_checkpoint_path", lambda: reader)
    first = fitted_hash(clip)
    reader.write_bytes(reader.read_bytes() + b"\0")
    assert fitted_hash(clip) != first
    reader.unlink()
    assert fitted_hash(clip) != first


def test_a_retuned_fitter_setting_refits_the_package_clips(monkeypatch):
    """Every number the fitter is tuned by is in a clip's source hash, so retuning one
    refits the clips even where FITTER_VERSION was not bumped."""
    import functools

    import engine.data.fit.constants as constants
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon_build import fitted_hash

    index = load_index()
    clip = index.path_of(index.find("ase", "A"))
    first = fitted_hash(clip)
    assert fitted_hash(clip) == first
    monkeypatch.setattr(constants, "SECOND_START_ERROR", constants.SECOND_START_ERROR + 0.01)
    assert fitted_hash(clip) != first
    monkeypatch.undo()
    monkeypatch.setattr(constants, "FitWeights", functools.partial(constants.FitWeights, contact=11.0))
    assert fitted_hash(clip) != first


def test_a_setting_of_speed_alone_does_not_refit_the_package_clips(monkeypatch):
    """The grid's batch size and the number of progress reports do not change a fit, so
    changing them keeps the clips' source hashes (a refit costs minutes for nothing)."""
    import engine.data.fit.constants as constants
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon_build import fitted_hash

    index = load_index()
    clip = index.path_of(index.find("ase", "A"))
    first = fitted_hash(clip)
    monkeypatch.setattr(constants, "GRID_FRAMES_PER_BATCH", 7)
    monkeypatch.setattr(constants, "PROGRESS_REPORTS", 3)
    assert fitted_hash(clip) == first
    assert constants.NOT_IN_RESULT <= {name for name in dir(constants) if name.isupper()}


def test_training_is_a_function_of_its_seed(tmp_path):
    """Whatever the caller drew from torch's generator before, the same readings and
    settings train the same weights (the shipped reader can be made again)."""
    from engine.learn.config import TrainConfig

    rng = np.random.default_rng(2)
    points, poses = rng.normal(size=(40, 21, 3)), rng.normal(size=(40, 15, 3)).astype(np.float32)
    config = HandReaderTrainConfig(model=type(HandReaderTrainConfig().model)(width=16, layers=1),
                                   train=TrainConfig(steps=30, batch_size=8, checkpoint_every=30))
    weights = []
    for run in range(2):
        torch.rand(run + 1)
        fit_hand_reader(points, poses, tmp_path / f"{run}.pt", config, data_licence="test")
        weights.append(load_hand_reader(tmp_path / f"{run}.pt").net.state_dict())
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])
