"""The sign segmenter: assembled training sequences, BIO decoding, keyframe placement,
training, checkpoints and use on a recording."""
import numpy as np
import pytest
import torch

from engine.learn.checkpoint import CheckpointError, build_manifest, save_checkpoint
from engine.learn.config import SplitConfig, TrainConfig
from engine.learn.dataset import MODEL_FPS, load_clips, split_records
from engine.learn.segmenter import (
    SegmenterConfig, SegmenterNet, decode_bio, keyframes_for_recording, load_segmenter,
    place_keyframes, segment, velocity_baseline_spans,
)
from engine.learn.sequences import (
    B, I, O, SequenceConfig, assemble_sequence, random_sequences, smooth_join, spans_to_labels,
    time_stretch,
)
from engine.learn.train_segmenter import SegmenterTrainConfig, train_segmenter
from engine.motion.motion import Channel
from engine.motion.resample import resample
from engine.motion.rotations import axis_angle_to_matrix
from tests.conftest import tiny_lexicon

TINY = SegmenterTrainConfig(
    model=SegmenterConfig(width=16, blocks=2, kernel=5, dropout=0.1, min_span=4, max_gap=1),
    train=TrainConfig(steps=40, batch_size=6, lr=3e-3, warmup=5, checkpoint_every=1000, seed=3),
    split=SplitConfig(held_out_fraction=0.3), window=48, pool_sequences=12,
    validation_sequences=3, sequence=SequenceConfig(clips_per_sequence=(2, 3)))


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    with tiny_lexicon(tmp_path_factory.mktemp("lex") / "lex.sqlite",
                      languages=("ase", "gsg", "bfi")) as store:
        return load_clips(store)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seg")
    path = folder / "lex.sqlite"
    tiny_lexicon(path, languages=("ase", "gsg", "bfi")).close()
    # One thread: on a shared, loaded 2-core machine two threads make each tiny step
    # ten times slower (measured), and the test needs only a few steps.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train_segmenter(path, folder / "segmenter.pt", TINY)
    finally:
        torch.set_num_threads(threads)
    return result, folder


def _tags(text):
    return np.array(["OBI".index(c) for c in text], np.int8)


def test_assembled_sequences_have_exactly_the_boundaries_they_claim(records):
    rng = np.random.default_rng(0)
    clips = records[:3]
    # At speed 1 every span must be a bit-exact copy of its clip.
    seq = assemble_sequence(clips, rng, SequenceConfig(speed=(1.0, 1.0), rest_frames=(3, 6)))
    assert len(seq.spans) == 3 and seq.entry_ids == tuple(c.entry_id for c in clips)
    for (start, stop), clip in zip(seq.spans, clips):
        assert stop - start == clip.num_frames
        assert seq.motion.slice(start, stop).equals(clip.motion)
        np.testing.assert_array_equal(seq.features[start:stop], clip.features)
    assert seq.spans[0][0] >= 4  # rest, then a transition of at least one frame
    assert all(b[0] > a[1] for a, b in zip(seq.spans, seq.spans[1:]))  # transitions between
    # Labels against spans, frame by frame.
    expected = np.full(seq.num_frames, O)
    for start, stop in seq.spans:
        expected[start:start + 2] = B
        expected[start + 2:stop] = I
    np.testing.assert_array_equal(seq.labels, expected)
    assert seq.features.shape == (seq.num_frames, 264) and seq.motion.fps == MODEL_FPS


def test_random_speeds_and_lengths_keep_labels_and_spans_consistent(records):
    slerp_joined = random_sequences(records, 2, seed=3, config=SequenceConfig(join="slerp"))
    with pytest.raises(ValueError, match="SequenceConfig.join"):
        SequenceConfig(join="cubic")
    for seq in random_sequences(records, 6, seed=1) + slerp_joined:
        assert np.array_equal(seq.labels, spans_to_labels(seq.spans, seq.num_frames, 2))
        assert decode_bio(seq.labels, min_span=1, max_gap=0) == list(seq.spans)
        assert seq.num_frames == seq.motion.num_frames == len(seq.features)
    lengths = {stop - start for seq in random_sequences(records[:1] * 1, 8, seed=2,
                                                         config=SequenceConfig(clips_per_sequence=(1, 1)))
               for start, stop in seq.spans}
    assert len(lengths) > 1  # one clip, several speeds
    assert time_stretch(records[0].motion, 2.0).num_frames == (records[0].num_frames - 1) // 2 + 1


def test_smooth_join_continues_the_clips_speed(records):
    a, b = records[0].motion, records[5].motion
    join = smooth_join(a, b, 8, damping=0.6)
    track = np.concatenate([a.full_pose()[-3:], join.full_pose(), b.full_pose()[:3]])
    rot = axis_angle_to_matrix(track)
    # Angle between consecutive frames, per joint: no step in the join may jump more
    # than the larger of the clips' own steps at its two ends plus the average step
    # needed to cover the gap (a slerp would be exactly that average).
    step = np.arccos(np.clip((np.einsum("tjab,tjab->tj", rot[1:], rot[:-1]) - 1) / 2, -1, 1))
    gap = np.arccos(np.clip((np.einsum("jab,jab->j", rot[2], rot[-3]) - 1) / 2, -1, 1)) / 9
    limit = np.maximum(step[1], step[-2]) + 2 * gap + 1e-4
    assert (step[2:-2] <= limit).all()
    assert join.num_frames == 8 and join.fps == a.fps


def test_decoding_a_hand_made_bio_sequence():
    assert decode_bio(_tags("OOBBIIIIOOBIIIIIBBIIIO")) == [(2, 8), (10, 16), (16, 21)]
    # An I after O opens a sign too; a 1-frame O flicker inside a sign is bridged...
    assert decode_bio(_tags("OIIIIOIIIIIO")) == [(1, 11)]
    # ...but not when a B follows it, or when the gap is longer.
    assert decode_bio(_tags("OIIIIOBIIIIO")) == [(1, 5), (6, 11)]
    assert decode_bio(_tags("OIIIIOOIIIIO"), max_gap=1) == [(1, 5), (7, 11)]
    # Too short to be a sign; running to the end closes the span.
    assert decode_bio(_tags("BIOOOBIIIII"), min_span=4) == [(5, 11)]
    assert decode_bio(_tags("")) == []
    with pytest.raises(ValueError, match="tags"):
        decode_bio(np.array([0, 3, 1]))


def test_keyframes_sit_at_onset_midpoint_and_offset_inside_spans(records):
    motion = random_sequences(records, 1, seed=4)[0].motion
    spans = [(3, 13), (20, 21), (30, 32)]
    keys = place_keyframes(motion, spans, channels={Channel.RIGHT_HAND})
    assert [k.frame for k in keys] == [3, 7, 12, 20, 30, 31]  # midpoint (start + stop - 1) // 2
    for key in keys:
        assert any(s <= key.frame < e for s, e in spans)
        assert key.pose.equals(motion.frame(key.frame))
        assert key.channels == frozenset({Channel.RIGHT_HAND})
    with pytest.raises(ValueError, match=r"spans\[0\]"):
        place_keyframes(motion, [(5, motion.num_frames + 1)])


def test_velocity_baseline_finds_holds_and_splits_between_them():
    # Moving, holding (frames 5-12), moving, holding (frames 19-26), moving.
    speed_profile = np.array([5] * 5 + [0] * 8 + [5] * 6 + [0] * 8 + [5] * 5, float)
    features = np.cumsum(speed_profile)[:, None] * np.ones((1, 4))
    tight = velocity_baseline_spans(features, threshold=0.5, margin=0, min_hold=2)
    assert len(tight) == 2
    assert tight[0][0] <= 8 < tight[0][1] <= 13 and 19 <= tight[1][0] <= 22 < tight[1][1]
    wide = velocity_baseline_spans(features, threshold=0.5, margin=5, min_hold=2)
    # Widened by the margin, but never past the middle of the gap between the holds.
    assert wide[0][0] == tight[0][0] - 5 and wide[0][1] == wide[1][0] == (tight[0][1] + tight[1][0]) // 2
    assert velocity_baseline_spans(features, threshold=0.5, margin=0, min_hold=9) == []


def test_a_tiny_model_trains_and_its_loss_falls(trained):
    result, folder = trained
    losses = result.losses
    assert result.steps == 40 and len(losses) == 40
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:8])
    model = load_segmenter(result.path)
    manifest = model.manifest
    assert manifest["kind"] == "segmenter" and manifest["data_licence"] == "synthetic test data"
    assert manifest["config"]["width"] == 16 and manifest["step"] == 40
    assert "validation_boundary_f1" in manifest["metrics"]
    assert 0.0 <= manifest["metrics"]["validation_boundary_f1"] <= 1.0


def test_the_evaluation_splits_as_the_recorded_training_did(trained):
    from engine.learn.train_segmenter import evaluate_segmenter, recorded_config

    result, folder = trained
    assert recorded_config(load_segmenter(result.path).manifest) == TINY
    scores = evaluate_segmenter(folder / "lex.sqlite", result.path, sequences=3,
                                baseline_sequences=3, unseen_join_sequences=2)
    with tiny_lexicon(folder / "again.sqlite", languages=("ase", "gsg", "bfi")) as store:
        held = split_records(load_clips(store), TINY.split)[1]
    assert scores["held_out_clips"] == len(held) and scores["sequences"] == 3
    assert 0.0 <= scores["learned"]["frame_iou"] <= 1.0


def test_segment_and_keyframes_for_a_recording_at_another_frame_rate(trained, records):
    result, _ = trained
    model = load_segmenter(result.path)
    seq = random_sequences(records, 1, seed=5)[0]
    recording = resample(seq.motion, 30.0)
    spans = segment(model, recording)
    assert all(0 <= s < e <= recording.num_frames for s, e in spans)
    keys = keyframes_for_recording(recording, result.path)
    assert keys and all(0 <= k.frame < recording.num_frames for k in keys)
    assert [k.frame for k in keys] == sorted({k.frame for k in keys})
    for key in keys:
        assert key.pose.equals(recording.frame(key.frame))


def test_keyframes_fall_back_to_the_whole_recording_without_a_checkpoint(records, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_ASSETS_DIR", str(tmp_path))  # no models/segmenter.pt there
    motion = records[0].motion
    keys = keyframes_for_recording(motion)
    last = motion.num_frames - 1
    assert [k.frame for k in keys] == [0, last // 2, last]
    with pytest.raises(CheckpointError, match="missing.pt.*no such checkpoint"):
        keyframes_for_recording(motion, tmp_path / "missing.pt")


def test_tampered_or_foreign_checkpoints_are_refused(trained, records, tmp_path, monkeypatch):
    result, _ = trained
    payload = torch.load(result.path, weights_only=True)
    payload["state_dict"]["out.weight"][0, 0] += 0.5
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered.pt.*modified or damaged"):
        load_segmenter(tmp_path / "tampered.pt")
    # The shipped-checkpoint path refuses it too instead of silently falling back.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "segmenter.pt").write_bytes((tmp_path / "tampered.pt").read_bytes())
    monkeypatch.setenv("SIGNSTUDIO_ASSETS_DIR", str(tmp_path))
    with pytest.raises(CheckpointError, match="modified or damaged"):
        keyframes_for_recording(records[0].motion)

    other = save_checkpoint(tmp_path / "other.pt", SegmenterNet(width=16, blocks=2).state_dict(),
                            build_manifest("recognizer", {}, data_version="x", data_licence="y"))
    with pytest.raises(CheckpointError, match="expected 'segmenter'"):
        load_segmenter(other)
    wrong = save_checkpoint(tmp_path / "wrong.pt", SegmenterNet(width=16, blocks=2).state_dict(),
                            build_manifest("segmenter", SegmenterNet(width=8, blocks=2).config,
                                           data_version="x", data_licence="y"))
    with pytest.raises(CheckpointError, match="wrong.pt.*do not fit"):
        load_segmenter(wrong)
