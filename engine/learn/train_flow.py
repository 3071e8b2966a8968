"""Training the sparse-keyframe flow model (``engine.learn.flow``) on lexicon clips.

``train_flow(store_or_path, out_path, config)`` trains on the TRAIN split of the
lexicon (``config.split``: whole clips by hash, and optionally every clip of some
languages, for the held-out-language evaluation) through ``engine.learn.training.train``
(seeded, resumable, progress, cancel) and writes a ``flow-kf2p`` checkpoint.

Each training example is drawn fresh (so ~500 clips give endless variety):

* a sequence of 1-3 random training clips, each time-stretched by a random factor
  (0.8-1.25; the product runs the model at the motion's own frame rate, 24-30 fps),
  joined by short cubic-spline transitions so the model also sees joins between signs;
* a window of at most ``max_frames`` frames, and in it a range to regenerate whose
  outside neighbours (0-2 frames each side, as KF2P's border frames) are known on every
  joint. With probability ``p_clip_protocol`` the example is exactly the evaluation's
  case: one whole clip, range = everything between its first and last frame;
* keyframes inside the range as SignSparK selects them: each clip's onset, midpoint and
  offset, plus a few random frames; each keyframe pins all channels or a random subset
  (hands only, body only, ...), i.e. a per-joint mask;
* with probability ``p_text_only`` no keyframe at all and one whole clip
  (text-to-pose); with probability ``p_drop_text`` the gloss/language condition is
  dropped (classifier-free guidance, and KF2P as ``regenerate`` calls it, label-free).

Loss, two terms on the clean estimate:

* mean squared error in normalised feature space at a uniformly drawn flow time, on
  every frame (known entries weighted 0.1: they are imposed at sampling anyway, but
  leaving them in keeps the output smooth across them);
* a joint-POSITION term (``position_weight``), what the evaluation measures: the
  estimate and the target go through forward kinematics of the default avatar's rest
  skeleton (``SkeletonFK``), and the mean joint distance in mm of each part (body
  relative to the pelvis, each hand relative to its wrist, as
  ``engine.metrics.joint_error`` measures DTW-JPE) is divided by that part's scale
  (``position_scales_mm``, about the spline baseline's error there) so the left hand's
  millimetres count as much as the right hand's centimetres. The feature loss alone
  weighs every normalised 6D entry equally, so a fingertip and a knuckle, or a static
  and a moving hand, got the same attention whatever their effect on positions.

Mean examples: with probability ``p_mean`` an example is given the flow input
``x_t = 0`` at ``t = 0`` (no noise at all). At t = 0 the sample carries no information
about the target, so the loss-minimising output there is the conditional MEAN of the
sequence given the keyframes; training that exact input makes the sampler's
deterministic first candidate (``SamplingConfig.mean_first``, one network evaluation) a
trained estimate rather than an extrapolation to a noise draw never seen, and it
keeps the start of a low-temperature ODE path (noise scaled by 0.25, near 0) inside
what the network has seen.

Validation: ``validation_fraction`` carves a second hash split out of the TRAIN clips
(``validation_split``); those clips are left out of training and give the manifest's
``validation_loss``, and settings are chosen on them, never on the held-out clips the
evaluation reports.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import roma
import torch

from engine.body.default_avatar import default_avatar
from engine.body.skeleton import NUM_JOINTS
from engine.body.torch_fk import ForwardKinematics
from engine.data.lexicon import LexiconStore
from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.checkpoint import build_manifest
from engine.learn.config import SamplingConfig, SplitConfig, TrainConfig
from engine.learn.dataset import (
    PACKAGE_DATA_LICENCE, ClipRecord, data_version, feature_statistics, load_records, split_clips,
    split_records,
)
from engine.learn.encoders import GlossEncoder, condition_text
from engine.learn.features import FEATURE_DIM, NUM_SIGN_JOINTS, SIGN_JOINTS, channel_feature_mask
from engine.learn.flow import KIND, FlowConfig, FlowNet, spline_inbetween
from engine.learn.training import TrainResult, restores_torch_threads, train
from engine.metrics.joint_error import PARTS
from engine.motion.motion import Channel
from engine.motion.rotations import axis_angle_to_matrix

_MODELLED_CHANNELS = (Channel.BODY, Channel.LEFT_HAND, Channel.RIGHT_HAND, Channel.FACE)
#: (4, J) bool: the joints each keyframe channel pins.
_CHANNEL_JOINTS = np.stack([channel_feature_mask({c})[::6] for c in _MODELLED_CHANNELS])


@dataclass(frozen=True)
class FlowTrainConfig:
    """Everything a run depends on (the manifest's ``training``): the network
    (``model``; its languages and text encoder are set from the data and the gloss
    encoder), the loop, the split, the sampling defaults the checkpoint gets, and the
    examples and loss of this module. The defaults are the shipped model's."""

    model: FlowConfig = field(default_factory=lambda: FlowConfig(width=128, layers=3, heads=4))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=5000, batch_size=16, lr=1e-3, warmup=200, checkpoint_every=500))
    split: SplitConfig = field(default_factory=SplitConfig)
    #: Chosen on the validation clips (docs/learned-models.md).
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    #: Share of the train clips kept out of training for validation (0: none).
    validation_fraction: float = 0.15
    max_frames: int = 48
    p_text_only: float = 0.1
    p_drop_text: float = 0.25
    p_drop_language: float = 0.1
    p_clip_protocol: float = 0.45
    p_concat: float = 0.4
    p_position_offset: float = 0.5
    known_weight: float = 0.1
    #: Weight of the joint-position term (0: feature loss only) and each part's scale in
    #: mm (body, left hand, right hand): roughly the spline baseline's median DTW-JPE on
    #: the validation clips, so each part's term is ~1 where the baseline stands.
    position_weight: float = 0.5
    position_scales_mm: tuple[float, float, float] = (6.5, 1.75, 15.5)
    #: Share of examples trained at t = 0 with x_t = 0 (the mean estimate, see above).
    p_mean: float = 0.15
    #: Signer-offset augmentation (see ``signer_offsets``): the share of examples whose
    #: joints all get a constant random rotation offset, and the offsets' std per
    #: axis-angle component in degrees (0: off).
    p_signer_offset: float = 0.0
    signer_offset_degrees: float = 0.0
    #: Torch threads while training (the caller's count is restored after).
    threads: int = 1

    def model_config(self, languages: Sequence[str], encoder: GlossEncoder) -> FlowConfig:
        """``model`` with the languages of the training clips and the encoder's text."""
        return replace(self.model, text_dim=encoder.dim, text_encoder=encoder.identity,
                       languages=tuple(sorted(languages)))


# ------------------------------------------------------------- forward kinematics
#: The joints each part of the position loss measures and the joint they are relative
#: to, in (body, left hand, right hand) order: exactly what DTW-JPE measures.
POSITION_PARTS = tuple(PARTS[part] for part in ("body", "left_hand", "right_hand"))


class SkeletonFK(torch.nn.Module):
    """Differentiable forward kinematics of the 55-joint skeleton from 6D features.

    ``forward(features)``: (..., FEATURE_DIM) raw (not normalised) 6D features of the
    modelled joints -> (..., 55, 3) joint positions in metres, root at the rest
    pelvis, with every joint the features do not model (pelvis, legs, eyes) at the
    identity rotation; posed by the shared ``engine.body.torch_fk.ForwardKinematics``.
    ``rest_joints`` (55, 3) metres: default the default avatar's.
    """

    def __init__(self, rest_joints: np.ndarray | None = None):
        super().__init__()
        rest = np.asarray(default_avatar().rest_joints if rest_joints is None else rest_joints,
                          np.float32)
        self.kinematics = ForwardKinematics(rest)
        self.sign_joints = torch.tensor(SIGN_JOINTS)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        lead = features.shape[:-1]
        # (N, J, 3, 2): the two stored columns; Gram-Schmidt as
        # engine.motion.rotations.sixd_to_matrix does it in numpy.
        columns = features.reshape(-1, NUM_SIGN_JOINTS, 2, 3).transpose(-1, -2)
        local = torch.eye(3, dtype=features.dtype).repeat(columns.shape[0], NUM_JOINTS, 1, 1)
        local[:, self.sign_joints] = roma.special_gramschmidt(columns)
        _, positions = self.kinematics(local)
        return positions.reshape(*lead, NUM_JOINTS, 3)


def part_distances_mm(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(..., 3) mean joint distance in mm per part (body, left hand, right hand).

    predicted, target: (..., 55, 3) joint positions in metres; each part relative to its
    root joint as ``POSITION_PARTS`` says (the DTW-JPE convention, without the DTW).
    """
    out = []
    for ids, root in POSITION_PARTS:
        a = predicted[..., ids, :] - predicted[..., root:root + 1, :]
        b = target[..., ids, :] - target[..., root:root + 1, :]
        # sqrt with a floor (0.01 mm): the gradient of |x| at 0 is undefined.
        out.append(torch.sqrt(((a - b) ** 2).sum(-1) + 1e-10).mean(-1) * 1000.0)
    return torch.stack(out, dim=-1)


# ------------------------------------------------------------------------ examples
@dataclass
class Example:
    """One training sequence. values (T, D) raw features; known (T, J) bool; label (T,)
    index into the label table; language (T,) token index; offset position shift."""

    values: np.ndarray
    known: np.ndarray
    label: np.ndarray
    language: np.ndarray
    text_on: bool
    offset: int


def _stretch(features: np.ndarray, factor: float) -> np.ndarray:
    """Resample (F, D) features to round(F * factor) frames by linear interpolation."""
    frames = len(features)
    count = max(2, int(round(frames * factor)))
    source = np.linspace(0.0, frames - 1, count)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, frames - 1)
    alpha = (source - low)[:, None]
    return ((1 - alpha) * features[low] + alpha * features[high]).astype(np.float32)


def _transition(a: np.ndarray, b: np.ndarray, gap: int) -> np.ndarray:
    """(gap, D) spline frames joining the end of ``a`` to the start of ``b``."""
    ends = np.concatenate([a[-2:], np.zeros((gap, FEATURE_DIM), np.float32), b[:2]])
    known = np.zeros((len(ends), NUM_SIGN_JOINTS), bool)
    known[:len(a[-2:])] = True
    known[-len(b[:2]):] = True
    return spline_inbetween(ends, known)[len(a[-2:]):-len(b[:2])]


def signer_offsets(rng: np.random.Generator, degrees: float) -> np.ndarray:
    """(J, 3, 3) one random rotation per modelled joint, axis-angle components ~ N(0, degrees)."""
    rotvecs = rng.normal(0.0, np.radians(degrees), size=(NUM_SIGN_JOINTS, 3))
    return axis_angle_to_matrix(rotvecs)


def offset_features(features: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(T, D) 6D features with joint j's local rotation A_j(t) replaced by R_j A_j(t).

    Why: each language in the lexicon is one signer, so a model can learn a signer's
    habits (the resting hand, how far the fingers open) as absolute joint angles, and on
    a new signer it then pulls the in-between toward a pose nobody asked for. A constant
    offset per joint is a different resting posture with the SAME motion (the rotation
    between any two frames, A_j(s)^T A_j(t), is unchanged), so the model has to read the
    posture from the keyframes. The 6D entries are the matrix's first two columns, so
    R_j applies to each column.
    """
    frames = len(features)
    columns = features.reshape(frames, NUM_SIGN_JOINTS, 2, 3)
    rotated = np.einsum("jab,tjcb->tjca", offsets, columns)
    return rotated.reshape(frames, FEATURE_DIM).astype(np.float32)


def _random_channels(rng: np.random.Generator) -> np.ndarray:
    """(J,) bool: all channels (60%) or a random non-empty subset."""
    if rng.random() < 0.6:
        return _CHANNEL_JOINTS.any(axis=0)
    while True:
        chosen = rng.random(len(_MODELLED_CHANNELS)) < 0.5
        if chosen.any():
            return _CHANNEL_JOINTS[chosen].any(axis=0)


class ExampleSampler:
    """Draws ``Example``s from training clips (see the module docstring)."""

    def __init__(self, records: Sequence[ClipRecord], config: FlowTrainConfig,
                 model_config: FlowConfig, label_index: dict[str, int]):
        if not records:
            raise ValueError("flow training: no training clips")
        self.records = list(records)
        self.config = config
        self.model_config = model_config
        self.label_index = label_index

    def _clip(self, rng, record: ClipRecord, stretch: bool = True) -> np.ndarray:
        if stretch and record.num_frames >= 4:
            return _stretch(record.features, float(np.exp(rng.uniform(np.log(0.8), np.log(1.25)))))
        return record.features

    def draw(self, rng: np.random.Generator) -> Example:
        cfg = self.config
        text_on = rng.random() >= cfg.p_drop_text
        offset = int(rng.integers(0, 257)) if rng.random() < cfg.p_position_offset else 0
        record = self.records[rng.integers(len(self.records))]
        if rng.random() < cfg.p_text_only:
            return self._text_only(rng, record, offset)
        if rng.random() < cfg.p_clip_protocol:
            values = self._clip(rng, record)[: cfg.max_frames]
            frames = len(values)
            known = np.zeros((frames, NUM_SIGN_JOINTS), bool)
            known[[0, frames - 1]] = True
            middle = (frames - 1) // 2
            known[middle] = _random_channels(rng) if rng.random() < 0.3 else True
            return self._finish(rng, values, known, [record] * frames, text_on, offset)
        # A sequence of 1-3 clips joined by spline transitions.
        count = 1 if rng.random() >= cfg.p_concat else int(rng.integers(2, 4))
        pieces, owners, onsets, lengths = [], [], [], []
        chosen = [record] + [self.records[rng.integers(len(self.records))] for _ in range(count - 1)]
        for index, clip in enumerate(chosen):
            features = self._clip(rng, clip)
            if index:
                gap = _transition(pieces[-1], features, int(rng.integers(2, 9)))
                pieces.append(gap)
                owners.extend([clip] * len(gap))
            onsets.append(sum(len(p) for p in pieces))
            lengths.append(len(features))
            pieces.append(features)
            owners.extend([clip] * len(features))
        values = np.concatenate(pieces)
        candidates = []
        for onset, length in zip(onsets, lengths):
            candidates += [onset, onset + (length - 1) // 2, onset + length - 1]
        # Window, then the range inside it with 0-2 known border frames each side.
        total = len(values)
        length = int(rng.integers(min(total, 6), min(total, cfg.max_frames) + 1))
        begin = int(rng.integers(0, total - length + 1))
        values = values[begin:begin + length]
        owners = owners[begin:begin + length]
        known = np.zeros((length, NUM_SIGN_JOINTS), bool)
        left, right = (int(rng.choice(3, p=[0.15, 0.35, 0.5])) for _ in range(2))
        left, right = min(left, length // 3), min(right, length // 3)
        known[:left] = True
        if right:
            known[length - right:] = True
        inside = [c - begin for c in candidates if left <= c - begin < length - right]
        keys = [c for c in inside if rng.random() < 0.7]
        extra = rng.poisson((length - left - right) / 15.0)
        if length - left - right > 0:
            keys += list(rng.integers(left, length - right, size=extra))
        for frame in set(keys):
            known[frame] |= _random_channels(rng)
        return self._finish(rng, values, known, owners, text_on, offset)

    def _text_only(self, rng, record: ClipRecord, offset: int) -> Example:
        values = self._clip(rng, record)
        if len(values) > self.config.max_frames:
            begin = int(rng.integers(0, len(values) - self.config.max_frames + 1))
            values = values[begin:begin + self.config.max_frames]
        known = np.zeros((len(values), NUM_SIGN_JOINTS), bool)
        return self._finish(rng, values, known, [record] * len(values), True, offset)

    def _finish(self, rng, values, known, owners, text_on, offset) -> Example:
        cfg = self.config
        if cfg.signer_offset_degrees > 0 and rng.random() < cfg.p_signer_offset:
            values = offset_features(np.asarray(values, np.float32),
                                     signer_offsets(rng, cfg.signer_offset_degrees))
        label = np.array([self.label_index[o.label] for o in owners], np.int64)
        drop_language = rng.random() < self.config.p_drop_language
        language = np.array([0 if drop_language else self.model_config.language_index(o.language)
                             for o in owners], np.int64)
        return Example(values=np.asarray(values, np.float32), known=known, label=label,
                       language=language, text_on=bool(text_on), offset=offset)


def collate(model: FlowNet, examples: Sequence[Example], label_table: torch.Tensor,
            generator: torch.Generator, known_weight: float = 0.1,
            p_mean: float = 0.0) -> dict[str, torch.Tensor]:
    """Pad a batch and add the flow's noise and time. Returns FlowNet inputs plus
    ``target`` (B, T, D) normalised, ``weight`` (B, T, D) loss weights (0 on padding)
    and ``frame_weight`` (B, T) for the position term (known frames count
    ``known_weight``, padding 0). A share ``p_mean`` of the rows gets t = 0 and no
    noise (x_t = 0): the mean-estimate input (module docstring)."""
    batch = len(examples)
    frames = max(len(e.values) for e in examples)
    values = torch.zeros(batch, frames, FEATURE_DIM)
    baseline = torch.zeros(batch, frames, FEATURE_DIM)
    mask = torch.zeros(batch, frames, NUM_SIGN_JOINTS)
    label = torch.zeros(batch, frames, dtype=torch.int64)
    language = torch.zeros(batch, frames, dtype=torch.int64)
    padding = torch.ones(batch, frames, dtype=torch.bool)
    for row, example in enumerate(examples):
        length = len(example.values)
        values[row, :length] = torch.from_numpy(example.values)
        base = spline_inbetween(example.values, example.known)
        baseline[row, :length] = torch.from_numpy(base)  # NaN where a joint is never known
        mask[row, :length] = torch.from_numpy(example.known.astype(np.float32))
        label[row, :length] = torch.from_numpy(example.label)
        language[row, :length] = torch.from_numpy(example.language)
        padding[row, :length] = False
    target = model.normalise(values)
    # A joint never known in the window gets the dataset mean: 0 once normalised.
    baseline = torch.nan_to_num(model.normalise(baseline), nan=0.0)
    entry_mask = mask.repeat_interleave(6, dim=-1)
    known = target * entry_mask
    noise = torch.randn(target.shape, generator=generator)
    t = torch.rand(batch, generator=generator)
    if p_mean > 0:
        mean_rows = torch.rand(batch, generator=generator) < p_mean
        t = torch.where(mean_rows, torch.zeros_like(t), t)
        noise = noise * (~mean_rows).float()[:, None, None]
    x_t = (1.0 - t[:, None, None]) * noise + t[:, None, None] * target
    weight = (1.0 - entry_mask) + known_weight * entry_mask
    weight = weight * (~padding)[..., None]
    all_known = mask.amin(dim=-1)
    frame_weight = ((1.0 - all_known) + known_weight * all_known) * (~padding)
    return {
        "x_t": x_t, "t": t, "known": known, "mask": mask, "baseline": baseline,
        "text": label_table[label], "language": language,
        "text_on": torch.tensor([float(e.text_on) for e in examples]),
        "padding": padding, "offset": torch.tensor([e.offset for e in examples]),
        "target": target, "weight": weight, "frame_weight": frame_weight,
    }


def batch_loss(model: FlowNet, batch: dict[str, torch.Tensor], fk: SkeletonFK | None = None,
               position_weight: float = 0.0,
               position_scales_mm: Sequence[float] = (6.5, 1.75, 15.5)) -> torch.Tensor:
    """Weighted MSE of the clean estimate (normalised units), plus ``position_weight``
    times the scaled per-part joint distance (``part_distances_mm`` / scales, averaged
    over parts and weighted frames) when ``fk`` is given (module docstring)."""
    x_hat = model(batch["x_t"], batch["t"], batch["known"], batch["mask"], batch["baseline"],
                  batch["text"], batch["language"], batch["text_on"], batch["padding"],
                  batch["offset"])
    weight = batch["weight"]
    loss = ((x_hat - batch["target"]) ** 2 * weight).sum() / weight.sum().clamp_min(1.0)
    if fk is None or position_weight <= 0:
        return loss
    frame_weight = batch["frame_weight"]
    rows = frame_weight > 0  # skip padding (and keep the FK batch small)
    predicted = fk(model.denormalise(x_hat[rows]))
    with torch.no_grad():
        target = fk(model.denormalise(batch["target"][rows]))
    scales = torch.as_tensor(position_scales_mm, dtype=torch.float32)
    per_frame = (part_distances_mm(predicted, target) / scales).mean(-1)
    position = (per_frame * frame_weight[rows]).sum() / frame_weight[rows].sum().clamp_min(1e-6)
    return loss + position_weight * position


# ------------------------------------------------------------------------- training
def training_split(records: Sequence[ClipRecord], config: FlowTrainConfig
                   ) -> tuple[list[ClipRecord], list[ClipRecord]]:
    """(train, held-out clips) as ``config.split`` says (``dataset.split_records``).

    The train list still holds the validation clips (``validation_split``)."""
    return split_records(records, config.split)


VALIDATION_SALT = "flow-validation-v1"


def validation_split(train_records: Sequence[ClipRecord], fraction: float
                     ) -> tuple[list[ClipRecord], list[ClipRecord]]:
    """(fit, validation): whole TRAIN clips by a second hash (its own salt, so it is
    independent of the held-out split); ``fraction`` 0 keeps every clip for fitting."""
    if fraction <= 0:
        return list(train_records), []
    return split_clips(train_records, fraction, salt=VALIDATION_SALT)


@restores_torch_threads
def train_flow(store_or_path: LexiconStore | str | Path, out_path: str | Path,
               config: FlowTrainConfig = FlowTrainConfig(), *, resume: bool = False,
               progress: Progress = no_progress, cancel: CancelToken | None = None,
               data_licence: str = PACKAGE_DATA_LICENCE) -> TrainResult:
    """Train the KF2P / text-to-pose flow model and write a ``flow-kf2p`` checkpoint.

    Args:
        store_or_path: an open ``LexiconStore`` or the path of a lexicon database.
        out_path: the checkpoint to write (``<out>.resume.pt`` while training).
        config: see ``FlowTrainConfig``: ``model``, ``train``, ``split``, ``sampling``...
        resume: continue from ``<out>.resume.pt`` when it exists.
        progress, cancel: ``engine.jobs`` progress callback and cancel token.
        data_licence: recorded in the manifest.

    Returns the ``TrainResult`` (path, steps, per-step losses). The manifest's metrics
    hold the final training loss and the held-out clips' validation loss.
    """
    records = load_records(store_or_path)
    torch.set_num_threads(max(1, int(config.threads)))
    train_records, held_records = training_split(records, config)
    train_records, validation_records = validation_split(train_records, config.validation_fraction)
    # The manifest's validation loss: on the validation clips when there are any (what
    # settings are chosen on), else on the held-out clips (reported, never tuned on).
    check_records = validation_records or held_records
    fk = SkeletonFK() if config.position_weight > 0 else None
    encoder = GlossEncoder()
    model_config = config.model_config({r.language for r in train_records}, encoder)
    torch.manual_seed(config.train.seed)
    model = FlowNet(model_config)
    model.set_statistics(*feature_statistics(train_records))
    labels = sorted({r.label for r in records})
    label_index = {label: i for i, label in enumerate(labels)}
    label_table = torch.from_numpy(encoder.encode_texts(
        [condition_text(*reversed(label.split(":", 1))) for label in labels]))
    sampler = ExampleSampler(train_records, config, model_config, label_index)

    def step_loss(net: FlowNet, generator: torch.Generator) -> torch.Tensor:
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
        rng = np.random.default_rng(seed)
        examples = [sampler.draw(rng) for _ in range(config.train.batch_size)]
        batch = collate(net, examples, label_table, generator, config.known_weight, config.p_mean)
        return batch_loss(net, batch, fk, config.position_weight, config.position_scales_mm)

    validation = {"value": None}

    def validation_loss() -> float | None:
        if not check_records:
            return None
        held = ExampleSampler(check_records, config, model_config, label_index)
        generator = torch.Generator().manual_seed(12345)
        rng = np.random.default_rng(12345)
        model.eval()
        with torch.no_grad():
            losses = [float(batch_loss(model, collate(model, [held.draw(rng) for _ in range(32)],
                                                      label_table, generator, config.known_weight,
                                                      config.p_mean),
                                       fk, config.position_weight, config.position_scales_mm))
                      for _ in range(4)]
        return float(np.mean(losses))

    version = data_version(train_records)

    def manifest(step: int, losses: list[float]) -> dict:
        recent = losses[-50:]
        metrics = {"train_loss": float(np.mean(recent)) if recent else None}
        if step >= config.train.steps:
            if validation["value"] is None:
                validation["value"] = validation_loss()
            metrics["validation_loss"] = validation["value"]
            metrics["validation_clips"] = len(check_records)
            metrics["validation_on"] = "validation" if validation_records else "held-out"
        return build_manifest(
            KIND, {"model": model_config.to_dict(), "sampling": asdict(config.sampling)},
            data_version=version, data_licence=data_licence, metrics=metrics,
            seed=config.train.seed, step=step,
            extra={"training": asdict(replace(config, model=model_config)),
                   "train_clips": len(train_records), "held_out_clips": len(held_records),
                   "validation_clips": len(validation_records),
                   "held_out_languages": list(config.split.held_out_languages)})

    return train(model, step_loss, manifest, out_path, config.train, resume=resume,
                 progress=progress, cancel=cancel)
