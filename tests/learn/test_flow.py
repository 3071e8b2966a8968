"""The sparse-keyframe flow model: training, sampling through regenerate, checkpoints,
the default backend and text-to-pose."""
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.generate import kf2p
from engine.generate.flow_backend import FlowKF2P, text_to_pose
from engine.generate.kf2p import default_backend, regenerate
from engine.learn.checkpoint import CheckpointError, build_manifest, save_checkpoint
from engine.learn.config import SamplingConfig, SplitConfig, TrainConfig
from engine.learn.dataset import load_clips
from engine.learn.features import FEATURE_DIM, NUM_SIGN_JOINTS
from engine.learn.flow import FlowConfig, spline_inbetween
from engine.learn.train_flow import FlowTrainConfig, train_flow
from engine.motion import Keyframe
from engine.motion.errors import MotionError
from engine.motion.motion import CHANNEL_FIELDS, Channel, Motion
from tests.conftest import tiny_lexicon

TINY = FlowTrainConfig(model=FlowConfig(width=32, layers=1, heads=2),
                       train=TrainConfig(steps=60, batch_size=8, lr=3e-3, warmup=5,
                                         checkpoint_every=1000, seed=0),
                       split=SplitConfig(held_out_fraction=0.2),
                       # 6 steps and the whole correction: the tests below rely on scale 1.
                       sampling=SamplingConfig(steps=6, correction_scale=1.0),
                       max_frames=24, position_weight=0.0, p_mean=0.0, validation_fraction=0.0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(checkpoint path, TrainResult, a real clip Motion) from one tiny training run."""
    folder = tmp_path_factory.mktemp("flow")
    with tiny_lexicon(folder / "lex.sqlite") as store:
        result = train_flow(store, folder / "flow.pt", TINY)
        motion = load_clips(store)[0].motion
    return folder / "flow.pt", result, motion


def test_tiny_model_trains_and_its_loss_falls(trained):
    path, result, _ = trained
    assert path.is_file() and result.steps == TINY.train.steps
    first, last = np.mean(result.losses[:15]), np.mean(result.losses[-15:])
    assert last < 0.8 * first, (first, last)
    model = FlowKF2P.from_checkpoint(path)
    assert model.manifest["kind"] == "flow-kf2p"
    assert model.manifest["data_licence"]
    assert model.manifest["metrics"]["validation_loss"] > 0
    assert FlowKF2P.from_checkpoint(path) is model  # loaded once


def _long_motion(clip: Motion) -> Motion:
    """The clip, then the clip played backwards: a longer motion, continuous at the join."""
    return clip.replace(**{k: np.concatenate([v, v[::-1]]) for k, v in clip.frame_arrays().items()})


def test_sampling_honours_keyframes_and_leaves_other_frames_bit_identical(trained):
    path, _, clip = trained
    motion = _long_motion(clip)
    start, stop = 4, motion.num_frames - 3
    other = motion.frame(2)  # a pose from elsewhere, so the keys really constrain
    keys = [Keyframe(start + 3, other, frozenset({Channel.RIGHT_HAND})),
            Keyframe(start + 8, motion.frame(start + 1), frozenset(Channel)),
            Keyframe(1, other)]  # outside the range: ignored
    backend = FlowKF2P.from_checkpoint(path)
    candidates = regenerate(motion, keys, (start, stop), backend=backend, num_candidates=3, seed=5)
    assert len(candidates) == 3
    for candidate in candidates:
        for key in keys[:2]:
            for channel in key.channels:
                for name in CHANNEL_FIELDS[channel]:
                    assert np.array_equal(getattr(candidate, name)[key.frame], getattr(key.pose, name)[0])
        for name, array in motion.frame_arrays().items():
            values = getattr(candidate, name)
            assert np.array_equal(values[:start], array[:start])
            assert np.array_equal(values[stop:], array[stop:])
        # The range really was regenerated (the right hand had to reach ``other``).
        assert not np.array_equal(candidate.right_hand_pose[start:stop], motion.right_hand_pose[start:stop])
        assert np.isfinite(candidate.body_pose).all()


@pytest.mark.slow
def test_seeds_choose_candidates_reproducibly(trained):
    path, _, clip = trained
    motion = _long_motion(clip)
    backend = FlowKF2P.from_checkpoint(path)
    keys = [Keyframe.from_motion(motion, 10)]
    span = (3, motion.num_frames - 3)
    a = regenerate(motion, keys, span, backend=backend, num_candidates=2, seed=1)
    b = regenerate(motion, keys, span, backend=backend, num_candidates=2, seed=1)
    c = regenerate(motion, keys, span, backend=backend, num_candidates=2, seed=2)
    assert all(x.equals(y) for x, y in zip(a, b))
    assert not np.array_equal(a[0].right_hand_pose, c[0].right_hand_pose)
    assert not np.array_equal(a[0].right_hand_pose, a[1].right_hand_pose)


def test_tampered_or_foreign_checkpoints_are_refused_naming_the_file(trained, tmp_path):
    path, _, _ = trained
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name] = payload["state_dict"][name] + 0.5
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*modified or damaged"):
        FlowKF2P.from_checkpoint(tmp_path / "tampered.pt")

    other = build_manifest("cvae", {"model": {}}, data_version="d", data_licence="synthetic")
    save_checkpoint(tmp_path / "cvae.pt", {"w": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="cvae.pt.*expected 'flow-kf2p'"):
        FlowKF2P.from_checkpoint(tmp_path / "cvae.pt")

    wrong = build_manifest("flow-kf2p", {"model": {"width": 32}}, data_version="d",
                           data_licence="synthetic")
    save_checkpoint(tmp_path / "wrong.pt", {"w": torch.zeros(2)}, wrong)
    with pytest.raises(CheckpointError, match="wrong.pt.*do not fit"):
        FlowKF2P.from_checkpoint(tmp_path / "wrong.pt")

    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="foreign.pt.*not a Sign Studio checkpoint"):
        FlowKF2P.from_checkpoint(tmp_path / "foreign.pt")


def test_default_backend_is_flow_only_when_the_checkpoint_is_shipped(trained, tmp_path, monkeypatch):
    path, _, clip = trained
    monkeypatch.setenv("SIGNSTUDIO_ASSETS_DIR", str(tmp_path))
    assert default_backend() == "smooth"
    with pytest.raises(MotionError, match="flow_kf2p.pt.*no such checkpoint"):
        regenerate(clip, [], (2, 6), backend="flow")
    (tmp_path / "models").mkdir()
    shutil.copy(path, tmp_path / "models" / "flow_kf2p.pt")
    assert default_backend() == "flow"
    result = regenerate(clip, [], (2, 6), backend=default_backend(), seed=0)[0]
    assert np.array_equal(result.body_pose[6:], clip.body_pose[6:])
    assert "flow" in kf2p.BACKENDS and "smooth" in kf2p.BACKENDS


@pytest.mark.slow
def test_text_to_pose_is_seeded_and_well_formed(trained):
    path, _, _ = trained
    first = text_to_pose("ase:A", 20, num_candidates=2, seed=3, checkpoint=path)
    again = text_to_pose("ase:A", 20, num_candidates=2, seed=3, checkpoint=path)
    assert first.features.shape == (2, 20, FEATURE_DIM) and first.fps == 25.0
    assert np.array_equal(first.features, again.features)
    assert len(first.motions) == 2 and first.motions[0].num_frames == 20
    assert np.isfinite(first.features).all()
    assert not np.array_equal(first.features[0], first.features[1])
    unguided = text_to_pose("ase:A", 20, num_candidates=2, seed=3, guidance=1.0, checkpoint=path)
    assert not np.array_equal(first.features, unguided.features)
    with pytest.raises(MotionError, match="num_frames"):
        text_to_pose("ase:A", 1, checkpoint=path)


def test_spline_inbetween_passes_through_known_entries_and_holds_outside():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(12, FEATURE_DIM)).astype(np.float32)
    known = np.zeros((12, NUM_SIGN_JOINTS), bool)
    known[[2, 5, 9], :10] = True   # some joints: three anchors
    known[4, 10:20] = True         # some: one anchor
    out = spline_inbetween(values, known)
    np.testing.assert_allclose(out[[2, 5, 9], :60], values[[2, 5, 9], :60], atol=1e-6)
    np.testing.assert_allclose(out[:2, :60], np.repeat(values[2:3, :60], 2, 0), atol=1e-6)
    np.testing.assert_allclose(out[:, 60:120], np.repeat(values[4:5, 60:120], 12, 0), atol=1e-6)
    assert np.isnan(out[:, 120:]).all()


@pytest.mark.slow
def test_evaluate_kf2p_scores_held_out_clips_and_refuses_a_dishonest_language_split(trained, tmp_path):
    import json

    from engine.generate.eval_kf2p import evaluate_kf2p, format_kf2p_table

    path, _, _ = trained
    with tiny_lexicon(tmp_path / "lex.sqlite") as store:
        backends = {"flow": FlowKF2P.from_checkpoint(path), "slerp": "slerp", "smooth": "smooth"}
        result = evaluate_kf2p(store, backends, split="clips", held_out_fraction=0.2)
        assert result["clips"] >= 1
        assert set(result["median"]) == {"flow", "flow+label", "slerp", "smooth"}
        for row in result["median"].values():
            assert row["keyframe_error"] < 1e-3 and row["right_hand"] >= 0
        paired = result["paired"]["flow"]["smooth"]["right_hand"]
        assert set(result["paired"]) == {"flow", "flow+label"}
        assert paired["ci95"][0] <= paired["median_difference"] <= paired["ci95"][1]
        json.dumps(result)  # JSON-able
        table = format_kf2p_table(result)
        assert "smooth" in table and "flow vs slerp" in table
        with pytest.raises(ValueError, match="trained with languages \\['gsg'\\]"):
            evaluate_kf2p(store, backends, split="languages", held_out_languages=("gsg",))


# ------------------------------------------------- position loss, mean estimate, validation
MEAN = replace(TINY, sampling=SamplingConfig(steps=6, mean_first=True, correction_scale=1.0),
               position_weight=0.5, p_mean=0.3, validation_fraction=0.2)


@pytest.fixture(scope="module")
def trained_mean(tmp_path_factory):
    """(checkpoint path, TrainResult, a real clip) from a tiny run with the position
    loss, mean examples, a validation split and ``mean_first`` sampling."""
    folder = tmp_path_factory.mktemp("flow_mean")
    with tiny_lexicon(folder / "lex.sqlite") as store:
        result = train_flow(store, folder / "flow.pt", MEAN)
        motion = load_clips(store)[0].motion
    return folder / "flow.pt", result, motion


def _random_pose_motion(frames: int, seed: int) -> Motion:
    from engine.learn.features import SIGN_JOINTS

    rng = np.random.default_rng(seed)
    motion = Motion.zeros(frames)
    pose = motion.full_pose().copy()
    pose[:, list(SIGN_JOINTS)] = rng.normal(scale=0.8, size=(frames, len(SIGN_JOINTS), 3))
    return motion.with_full_pose(pose.astype(np.float32))


def test_fk_of_features_matches_the_default_avatars_joints():
    from engine.body.default_avatar import default_avatar
    from engine.learn.features import motion_to_features
    from engine.learn.train_flow import SkeletonFK

    motion = _random_pose_motion(5, seed=1)
    features = torch.from_numpy(motion_to_features(motion))
    joints = SkeletonFK()(features[None])[0].numpy()  # leading batch dims are kept
    expected = default_avatar().forward(motion).joints
    assert joints.shape == (5, 55, 3)
    assert np.abs(joints - expected).max() < 1e-4  # metres: < 0.1 mm


def test_part_distances_measure_each_part_relative_to_its_root():
    from engine.body.default_avatar import default_avatar
    from engine.learn.train_flow import part_distances_mm

    motion = _random_pose_motion(3, seed=2)
    joints = torch.from_numpy(default_avatar().forward(motion).joints)
    assert torch.allclose(part_distances_mm(joints, joints), torch.zeros(3, 3), atol=2e-2)
    # Moving a whole hand with its wrist changes nothing; bending one finger joint only
    # changes that hand's term, by its displacement / 15 joints.
    shifted = joints.clone()
    shifted[:, 40:55] += torch.tensor([0.01, 0.0, 0.0])
    shifted[:, 21] += torch.tensor([0.01, 0.0, 0.0])
    body_only = part_distances_mm(shifted, joints)
    assert body_only[:, 1:].abs().max() < 2e-2 and body_only[:, 0].min() > 0.4  # 10 mm / 22
    bent = joints.clone()
    bent[:, 27] += torch.tensor([0.0, 0.003, 0.0])  # left index tip, 3 mm
    np.testing.assert_allclose(part_distances_mm(bent, joints).numpy(),
                               np.tile([0.0, 3.0 / 15, 0.0], (3, 1)), atol=2e-2)


def test_position_loss_is_differentiable_and_adds_to_the_feature_loss(trained_mean):
    from engine.learn.encoders import GlossEncoder
    from engine.learn.flow import FlowConfig, FlowNet
    from engine.learn.train_flow import Example, SkeletonFK, batch_loss, collate

    clip = trained_mean[2]
    from engine.learn.features import motion_to_features
    values = motion_to_features(clip)
    known = np.zeros((len(values), NUM_SIGN_JOINTS), bool)
    known[[0, -1]] = True
    example = Example(values=values, known=known, label=np.zeros(len(values), np.int64),
                      language=np.zeros(len(values), np.int64), text_on=False, offset=0)
    torch.manual_seed(0)
    model = FlowNet(FlowConfig(width=32, layers=1, heads=2, text_dim=GlossEncoder().dim))
    with torch.no_grad():
        model.out.weight.normal_(std=0.05)  # so the estimate is not just the baseline
    batch = collate(model, [example, example], torch.zeros(1, model.config.text_dim),
                    torch.Generator().manual_seed(0))
    plain = batch_loss(model, batch)
    with_position = batch_loss(model, batch, SkeletonFK(), position_weight=0.5)
    assert with_position > plain
    with_position.backward()
    assert model.out.weight.grad is not None and model.out.weight.grad.abs().sum() > 0


def test_mean_rows_get_no_noise_and_time_zero():
    from engine.learn.encoders import GlossEncoder
    from engine.learn.flow import FlowConfig, FlowNet
    from engine.learn.train_flow import Example, collate

    model = FlowNet(FlowConfig(width=32, layers=1, heads=2, text_dim=GlossEncoder().dim))
    values = np.random.default_rng(0).normal(size=(10, FEATURE_DIM)).astype(np.float32)
    example = Example(values=values, known=np.zeros((10, NUM_SIGN_JOINTS), bool),
                      label=np.zeros(10, np.int64), language=np.zeros(10, np.int64),
                      text_on=True, offset=0)
    batch = collate(model, [example] * 64, torch.zeros(1, model.config.text_dim),
                    torch.Generator().manual_seed(0), p_mean=0.5)
    zero = (batch["x_t"].abs().amax(dim=(1, 2)) == 0)
    assert 10 < int(zero.sum()) < 54  # about half the rows
    assert torch.all(batch["t"][zero] == 0)


def test_validation_clips_come_from_the_train_split_and_are_left_out_of_training(trained_mean):
    from engine.learn.dataset import split_clips
    from engine.learn.train_flow import validation_split

    path, result, _ = trained_mean
    manifest = FlowKF2P.from_checkpoint(path).manifest
    with tiny_lexicon(path.parent / "again.sqlite") as store:
        records = load_clips(store)
    train, held = split_clips(records, MEAN.split.held_out_fraction)
    fit, validation = validation_split(train, MEAN.validation_fraction)
    assert validation and fit
    assert {r.source_hash for r in validation} <= {r.source_hash for r in train}
    assert not {r.source_hash for r in validation} & {r.source_hash for r in fit}
    assert not {r.source_hash for r in validation} & {r.source_hash for r in held}
    assert fit == validation_split(train, MEAN.validation_fraction)[0]  # stable
    assert manifest["train_clips"] == len(fit)
    assert manifest["validation_clips"] == len(validation)
    assert manifest["metrics"]["validation_on"] == "validation"


@pytest.mark.slow
def test_gradient_steps_on_the_position_loss_reduce_the_joint_error(trained_mean):
    """The position term's gradient really points downhill in millimetres: a few Adam
    steps on one fixed batch, position loss only, cut that batch's joint error."""
    from engine.learn.encoders import GlossEncoder
    from engine.learn.features import motion_to_features
    from engine.learn.flow import FlowConfig, FlowNet
    from engine.learn.train_flow import Example, SkeletonFK, collate, part_distances_mm

    clip = trained_mean[2]
    values = motion_to_features(clip)
    known = np.zeros((len(values), NUM_SIGN_JOINTS), bool)
    known[[0, -1]] = True  # only the ends: the spline misses the middle
    example = Example(values=values, known=known, label=np.zeros(len(values), np.int64),
                      language=np.zeros(len(values), np.int64), text_on=False, offset=0)
    torch.manual_seed(0)
    model = FlowNet(FlowConfig(width=32, layers=1, heads=2, text_dim=GlossEncoder().dim))
    model.set_statistics(values.mean(0), values.std(0))
    batch = collate(model, [example], torch.zeros(1, model.config.text_dim),
                    torch.Generator().manual_seed(0))
    fk = SkeletonFK()
    target = fk(model.denormalise(batch["target"]))

    def error():
        x_hat = model(batch["x_t"], batch["t"], batch["known"], batch["mask"], batch["baseline"],
                      batch["text"], batch["language"], batch["text_on"])
        return part_distances_mm(fk(model.denormalise(x_hat)), target).mean()

    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    before = float(error().detach())
    for _ in range(30):
        optimiser.zero_grad()
        loss = error()
        loss.backward()
        optimiser.step()
    after = float(error().detach())
    assert after < 0.6 * before, (before, after)


def test_mean_first_candidate_is_seed_free_and_keys_stay_exact(trained_mean):
    path, _, clip = trained_mean
    motion = _long_motion(clip)
    backend = FlowKF2P.from_checkpoint(path)
    assert backend.sampling.mean_first
    start, stop = 3, motion.num_frames - 3
    keys = [Keyframe(start + 4, motion.frame(2), frozenset({Channel.LEFT_HAND})),
            Keyframe(start + 9, motion.frame(start + 1), frozenset(Channel))]
    a = regenerate(motion, keys, (start, stop), backend=backend, num_candidates=3, seed=1)
    b = regenerate(motion, keys, (start, stop), backend=backend, num_candidates=3, seed=2)
    for candidate in a + b:
        for key in keys:
            for channel in key.channels:
                for name in CHANNEL_FIELDS[channel]:
                    assert np.array_equal(getattr(candidate, name)[key.frame], getattr(key.pose, name)[0])
        for name, array in motion.frame_arrays().items():
            assert np.array_equal(getattr(candidate, name)[:start], array[:start])
            assert np.array_equal(getattr(candidate, name)[stop:], array[stop:])
    # Candidate 0: the mean estimate, the same for every seed; the samples follow the seed
    # and differ from it and from each other.
    assert a[0].equals(b[0])
    assert not np.array_equal(a[1].right_hand_pose, b[1].right_hand_pose)
    for x, y in ((a[0], a[1]), (a[1], a[2]), (a[0], a[2])):
        assert not np.array_equal(x.right_hand_pose, y.right_hand_pose)
    # One candidate is the mean alone; switching mean_first off gives a flow sample.
    single = regenerate(motion, keys, (start, stop), backend=backend, seed=9)[0]
    assert single.equals(a[0])
    sampled = FlowKF2P(backend.model, backend.manifest,
                       sampling=replace(backend.sampling, mean_first=False))
    other = regenerate(motion, keys, (start, stop), backend=sampled, seed=1)[0]
    assert not np.array_equal(other.right_hand_pose, a[0].right_hand_pose)


def test_mean_estimate_is_one_network_evaluation_at_time_zero(trained_mean):
    from engine.learn.flow import Conditions, prepare, sample

    path, _, clip = trained_mean
    backend = FlowKF2P.from_checkpoint(path)
    model = backend.model
    from engine.learn.features import motion_to_features
    values = motion_to_features(clip)
    known = np.zeros((len(values), NUM_SIGN_JOINTS), bool)
    known[[0, len(values) // 2, -1]] = True
    conditions = Conditions(values, known)
    mean = sample(model, conditions, num_candidates=1, seed=0, sampling=backend.sampling)[0]
    inputs = prepare(model, conditions)
    with torch.no_grad():
        x_hat = model(torch.zeros(1, len(values), FEATURE_DIM), torch.zeros(1), inputs["known"],
                      inputs["mask"], inputs["baseline"], inputs["text"], inputs["language"],
                      inputs["text_on"])[0]
        em = inputs["entry_mask"][0]
        expected = model.denormalise(x_hat * (1 - em) + inputs["known"][0] * em).numpy()
    np.testing.assert_allclose(mean, expected, atol=1e-5)
    np.testing.assert_allclose(mean[known.repeat(6, axis=1)], values[known.repeat(6, axis=1)],
                               atol=1e-5)


def test_signer_offsets_change_the_posture_and_keep_every_joints_motion(tmp_path):
    """The augmentation gives a new resting posture, never a new motion: the rotation
    between any two frames of a joint is unchanged, and the sampler applies it to whole
    examples (known frames included, so keyframes stay consistent with the target)."""
    from engine.learn.encoders import GlossEncoder
    from engine.learn.flow import FlowConfig
    from engine.learn.train_flow import ExampleSampler, offset_features, signer_offsets
    from engine.motion.rotations import sixd_to_matrix

    with tiny_lexicon(tmp_path / "lex.sqlite") as store:
        records = load_clips(store)
    features = records[0].features
    offsets = signer_offsets(np.random.default_rng(1), 10.0)
    moved = offset_features(features, offsets)

    def relative(values):
        matrices = sixd_to_matrix(values.reshape(len(values), NUM_SIGN_JOINTS, 6))
        return np.einsum("jba,tjbc->tjac", matrices[0], matrices)  # A(0)^T A(t)

    assert np.abs(moved - features).max() > 0.05
    np.testing.assert_allclose(relative(moved), relative(features), atol=1e-5)
    identity = np.broadcast_to(np.eye(3), (NUM_SIGN_JOINTS, 3, 3))
    np.testing.assert_allclose(offset_features(features, identity), features, atol=1e-6)

    labels = {r.label: i for i, r in enumerate(records)}
    model_config = FlowConfig(text_dim=GlossEncoder().dim)

    def draw(degrees):
        config = FlowTrainConfig(p_signer_offset=1.0, signer_offset_degrees=degrees)
        return ExampleSampler(records, config, model_config, labels).draw(np.random.default_rng(3))

    plain, augmented = draw(0.0), draw(10.0)
    assert plain.values.shape == augmented.values.shape
    assert np.abs(plain.values - augmented.values).max() > 0.05
    np.testing.assert_allclose(relative(augmented.values), relative(plain.values), atol=1e-4)
    np.testing.assert_array_equal(plain.known, augmented.known)


# ------------------------------------------------------------ per-frame gloss labels
def _labelled_scene(clip: Motion):
    """(motion, keys, (start, stop)) for the label tests: keys on a hand and a frame."""
    motion = _long_motion(clip)
    start, stop = 4, motion.num_frames - 3
    keys = [Keyframe(start + 3, motion.frame(2), frozenset({Channel.RIGHT_HAND})),
            Keyframe(start + 8, motion.frame(start + 1))]
    return motion, keys, (start, stop)


def test_per_frame_labels_condition_the_flow_and_keep_the_contract(trained):
    path, _, clip = trained
    motion, keys, (start, stop) = _labelled_scene(clip)
    frames, middle = motion.num_frames, motion.num_frames // 2
    labels = ("ase:FIST",) * middle + ("gsg:FLAT",) * (frames - middle)
    backend = FlowKF2P.from_checkpoint(path)
    plain = regenerate(motion, keys, (start, stop), backend=backend, num_candidates=2, seed=5)
    labelled = regenerate(motion, keys, (start, stop), backend=backend, num_candidates=2, seed=5,
                          labels=labels)
    for with_label, without in zip(labelled, plain):
        assert not with_label.equals(without)
        for key in keys:
            for channel in key.channels:
                for name in CHANNEL_FIELDS[channel]:
                    assert np.array_equal(getattr(with_label, name)[key.frame],
                                          getattr(key.pose, name)[0])
        for name, array in motion.frame_arrays().items():
            values = getattr(with_label, name)
            assert np.array_equal(values[:start], array[:start])
            assert np.array_equal(values[stop:], array[stop:])
            assert np.isfinite(values).all()


def test_one_label_on_every_frame_is_the_single_label_path(trained):
    from engine.generate.flow_backend import CONTEXT

    path, _, clip = trained
    motion, keys, (start, stop) = _labelled_scene(clip)
    frames, label = motion.num_frames, "ase:FIST"
    backend = FlowKF2P.from_checkpoint(path)

    def run(**condition):
        return backend(motion, keys, (start, stop), 2, 3, **condition)

    def same(a, b):
        return all(x.equals(y) for x, y in zip(a, b))

    single = run(label=label)
    assert same(run(labels=[label] * frames), single)
    # Unlabelled window frames take the label that follows them, or the last one.
    assert same(run(labels=[None] * start + [label] * (frames - start)), single)
    assert same(run(labels=[label] * stop + [None] * (frames - stop)), single)
    # A window without a label runs label-free, as before (labels outside it do not count).
    free = run()
    assert same(run(labels=[None] * frames), free)
    assert same(run(labels=[label] * (start - CONTEXT) + [None] * (frames - start + CONTEXT)), free)
    with pytest.raises(MotionError, match="not both"):
        run(label=label, labels=[label] * frames)
    with pytest.raises(MotionError, match=f"labels: expected {frames} per-frame labels"):
        run(labels=[label] * (frames - 1))


def test_unlabelled_frames_are_filled_from_the_following_label():
    from engine.generate.flow_backend import _filled_from_following

    assert _filled_from_following([None, "a", None, None, "b", None]) == ["a", "a", "b", "b", "b", "b"]
    assert _filled_from_following([None, None]) is None


def test_the_flow_registry_backend_passes_labels_to_the_model(trained, tmp_path, monkeypatch):
    path, _, clip = trained
    monkeypatch.setenv("SIGNSTUDIO_ASSETS_DIR", str(tmp_path))
    (tmp_path / "models").mkdir()
    shutil.copy(path, tmp_path / "models" / "flow_kf2p.pt")
    labels = ["gsg:FLAT"] * clip.num_frames
    by_name = regenerate(clip, [], (2, 6), backend="flow", seed=0, labels=labels)[0]
    direct = regenerate(clip, [], (2, 6), backend=FlowKF2P.from_checkpoint(path), seed=0,
                        labels=labels)[0]
    assert by_name.equals(direct)
    assert not by_name.equals(regenerate(clip, [], (2, 6), backend="flow", seed=0)[0])


def test_correction_scale_runs_from_the_spline_to_the_network(trained):
    """Scale 0 is exactly the spline in-between through the keys, 1 the network as
    trained, and values between lie between them (same seed, same noise)."""
    from engine.learn.features import motion_to_features
    from engine.learn.flow import Conditions, sample

    path, _, clip = trained
    backend = FlowKF2P.from_checkpoint(path)
    model, warm = backend.model, replace(backend.sampling, temperature=0.5)
    features = motion_to_features(_long_motion(clip))
    known = np.zeros((len(features), NUM_SIGN_JOINTS), bool)
    known[[0, 1, len(features) // 2, -2, -1]] = True
    conditions = Conditions(features, known)

    def draw(scale, conditions=conditions):
        return sample(model, conditions, seed=3,
                      sampling=replace(warm, correction_scale=scale))[0]

    spline = spline_inbetween(features, known)
    np.testing.assert_allclose(draw(0.0), spline, atol=1e-5)
    full, half = draw(1.0), draw(0.5)
    # The checkpoint's own scale (1 for this model) is the network as trained.
    assert np.array_equal(full, sample(model, conditions, seed=3, sampling=warm)[0])
    off_full, off_half = np.abs(full - spline).mean(), np.abs(half - spline).mean()
    assert 0.0 < off_half < off_full
    for values in (full, half):  # the keys stay exact whatever the scale
        np.testing.assert_allclose(values[known.repeat(6, axis=1)],
                                   features[known.repeat(6, axis=1)], atol=1e-5)
    with pytest.raises(ValueError, match="correction_scale"):
        draw(1.5)

    # A joint never known in the window has no spline to shrink toward (its "baseline"
    # is the dataset mean): at scale 0 the known joints are exactly their spline, while
    # the others keep the network's estimate instead of collapsing onto the mean pose.
    from engine.learn.features import JOINT_CHANNELS

    right_hand = np.array([c is Channel.RIGHT_HAND for c in JOINT_CHANNELS])
    hand_only = Conditions(features, known & right_hand)
    splined = draw(0.0, hand_only)
    hand_entries = np.repeat(right_hand, 6)
    np.testing.assert_allclose(splined[:, hand_entries],
                               spline_inbetween(features, known & right_hand)[:, hand_entries],
                               atol=1e-5)
    mean_pose = model.mean.numpy()[~hand_entries]
    assert np.abs(splined[:, ~hand_entries] - mean_pose).max() > 1e-3


def test_sampling_defaults_are_rewritten_with_the_same_weights_and_a_record(trained, tmp_path):
    from engine.generate.flow_backend import save_with_sampling_defaults
    from engine.learn.checkpoint import load_checkpoint

    path, _, _ = trained
    copy = save_with_sampling_defaults(path, tmp_path / "tuned.pt", "validation clips: 0.5 best",
                                       correction_scale=0.5, mean_first=True)
    before, after = load_checkpoint(path), load_checkpoint(copy)
    assert all(torch.equal(before.state_dict[k], after.state_dict[k]) for k in before.state_dict)
    sampling = FlowKF2P.from_checkpoint(copy).sampling
    assert sampling.correction_scale == 0.5 and sampling.mean_first is True
    assert after.manifest["config"]["sampling"] == {**before.manifest["config"]["sampling"],
                                                    "correction_scale": 0.5, "mean_first": True}
    record = after.manifest["sampling_defaults"][-1]
    assert record["chosen_on"] == "validation clips: 0.5 best"
    assert record["previous"] == {"correction_scale": 1.0, "mean_first": False}
    with pytest.raises(ValueError, match="not sampling fields"):
        save_with_sampling_defaults(path, tmp_path / "bad.pt", "x", width=64)
    with pytest.raises(ValueError, match="correction_scale"):
        save_with_sampling_defaults(path, tmp_path / "bad.pt", "x", correction_scale=-1.0)
    assert not (tmp_path / "bad.pt").exists()
