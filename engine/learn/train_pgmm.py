"""Training and evaluating the photoreal model (``engine.learn.pgmm``) on one signer.

Data: the user's own recordings of themselves (``engine.learn.pgmm_data``). Each step
draws pairs of frames of one video, a source and a driving frame (the paper's
recipe), and the model redraws the driving frame from the source and the driving
keypoints. The loss (``pgmm_losses``):

- reconstruction: L1 at full size and at half and quarter size (the paper's perceptual
  loss needs an ImageNet VGG, which cannot be had offline; the coarse scales stand in
  for its feature levels);
- pose distance: the model's pose head reads the drawn frame's keypoints, which should
  be the driving ones; the head learns on the real frames at the same time;
- feature alignment: the encoder's coarsest features of the drawn frame against the
  real frame's.

``evaluate_pgmm`` scores the held-out end of the first video with L1, SSIM and TCD,
and L1 over the hands alone (a few per cent of the picture, where a signer looks first),
beside two baselines in the same run: the nearest training frame by pose, and the
source warped by the keypoints' moves alone (no learning, no pose fusion).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.checkpoint import (
    build_checked, build_manifest, checked_config, load_checkpoint,
)
from engine.learn.config import TrainConfig
from engine.learn.pgmm import KIND, Pgmm, PgmmConfig, keypoint_flow_warp
from engine.learn.pgmm_data import BODY_POINTS, Framing, SignerFrames, signer_frames
from engine.learn.training import TrainResult, restores_torch_threads, train

#: MediaPipe Pose's wrists, in ``pgmm_data``'s keypoint order.
WRISTS = (BODY_POINTS.index(15), BODY_POINTS.index(16))
#: TCD's threshold (the paper's T), on pixel differences in [0, 1].
TCD_THRESHOLD = 0.5


@dataclass(frozen=True)
class PgmmTrainConfig:
    """Everything a photoreal training run depends on (the manifest's ``training``).

    ``held_out_fraction``: the end of each video kept for validation; ``pose_weight``,
    ``align_weight``: the pose-distance and feature-alignment losses beside
    reconstruction (1); ``threads``: torch threads while training."""

    model: PgmmConfig = field(default_factory=PgmmConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=3000, batch_size=4, lr=2e-4, weight_decay=0.0, checkpoint_every=250))
    held_out_fraction: float = 0.15
    pose_weight: float = 10.0
    align_weight: float = 0.1
    threads: int = 2

    def __post_init__(self):
        if not 0 <= self.held_out_fraction < 0.9:
            raise ValueError(f"held_out_fraction: expected 0 to 0.9, got {self.held_out_fraction}")
        if self.pose_weight < 0 or self.align_weight < 0:
            raise ValueError("pose_weight, align_weight: expected >= 0")
        if self.threads < 1:
            raise ValueError(f"threads: expected >= 1, got {self.threads}")


def _tensors(frames: SignerFrames, index: np.ndarray) -> tuple[torch.Tensor, ...]:
    images = torch.from_numpy(frames.images[index]).float() / 255.0
    return images, torch.from_numpy(frames.points[index]), torch.from_numpy(frames.seen[index])


def sample_pairs(frames: SignerFrames, batch: int, generator: torch.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` (source, driving) training-frame indices, each pair from one video."""
    sources, drivings = [], []
    train_frames = np.flatnonzero(~frames.held_out)
    for _ in range(batch):
        driving = train_frames[int(torch.randint(len(train_frames), (1,), generator=generator))]
        same = train_frames[frames.video[train_frames] == frames.video[driving]]
        sources.append(same[int(torch.randint(len(same), (1,), generator=generator))])
        drivings.append(driving)
    return np.array(sources), np.array(drivings)


def pgmm_losses(model: Pgmm, source: torch.Tensor, source_points: torch.Tensor,
                target: torch.Tensor, driving_points: torch.Tensor, seen: torch.Tensor,
                config: PgmmTrainConfig) -> dict[str, torch.Tensor]:
    """The loss terms of one batch (see the module docstring) and their ``total``."""
    drawn = model(source, source_points, driving_points, seen)["image"]
    terms = {"reconstruction": F.l1_loss(drawn, target)}
    for factor in (2, 4):
        terms["reconstruction"] = terms["reconstruction"] + F.l1_loss(
            F.avg_pool2d(drawn, factor), F.avg_pool2d(target, factor))
    wanted = model.maps(driving_points, seen, model.config.size // 2)
    terms["pose_head"] = F.mse_loss(model.read_pose(target), wanted)
    # The judges of the drawn frame (the pose head, the encoder) see it through frozen
    # weights: these two terms teach the generator, not the judges to go easy on it.
    terms["pose_distance"] = F.mse_loss(_frozen(model.pose_head, drawn), wanted)
    with torch.no_grad():
        real = model.encoder(target)[-1]
    terms["alignment"] = F.l1_loss(_frozen(model.encoder, drawn)[-1], real)
    terms["total"] = (terms["reconstruction"] + config.pose_weight * (
        terms["pose_head"] + terms["pose_distance"]) + config.align_weight * terms["alignment"])
    return terms


def _frozen(module: torch.nn.Module, *inputs):
    """``module(*inputs)`` with its parameters detached: gradients reach the inputs only."""
    from torch.func import functional_call

    state = {name: value.detach() for name, value in module.named_parameters()}
    state.update(dict(module.named_buffers()))
    return functional_call(module, state, inputs)


def neutral_frame(frames: SignerFrames) -> int:
    """The training frame of the first video the model draws from: the one whose wrists
    are lowest on average (the signer nearest to rest)."""
    train_frames = np.flatnonzero(~frames.held_out & (frames.video == 0))
    wrists = frames.points[train_frames][:, list(WRISTS), 1].mean(axis=1)
    return int(train_frames[int(np.argmax(wrists))])


@restores_torch_threads
def train_pgmm(videos: list[str | Path], out_path: str | Path,
               config: PgmmTrainConfig = PgmmTrainConfig(), *, resume: bool = False,
               progress: Progress = no_progress, cancel: CancelToken | None = None,
               frames: SignerFrames | None = None, device: str | None = None) -> TrainResult:
    """Train on ``videos`` (one signer) and write ``out_path`` (see the module
    docstring). ``frames``: already-read data (tests, benches) instead of reading.
    ``device``: where the network trains (default: a CUDA GPU when torch sees one, else
    the CPU); the checkpoint is the same either way (weights saved on the CPU)."""
    torch.set_num_threads(config.threads)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if frames is None:
        frames = signer_frames(videos, config.model.size, config.held_out_fraction,
                               progress=progress, cancel=cancel)
    if frames.size != config.model.size:
        raise ValueError(f"frames are {frames.size} pixels, the model {config.model.size}")
    torch.manual_seed(config.train.seed)  # the initial weights, so a run is its seed's
    model = Pgmm(config.model)
    source = neutral_frame(frames)
    image, points, seen = _tensors(frames, np.array([source]))
    framing = signers_framing(frames.framings)
    model.set_source(image[0], points[0], seen[0], torch.from_numpy(framing.as_array()))
    model.to(device)

    def step_loss(net: Pgmm, generator: torch.Generator) -> torch.Tensor:
        sources, drivings = sample_pairs(frames, config.train.batch_size, generator)
        src, src_points, src_seen = (t.to(device) for t in _tensors(frames, sources))
        tgt, tgt_points, tgt_seen = (t.to(device) for t in _tensors(frames, drivings))
        return pgmm_losses(net, src, src_points, tgt, tgt_points, src_seen * tgt_seen,
                           config)["total"]

    def manifest(step: int, losses: list[float]) -> dict:
        return build_manifest(
            KIND, asdict(config.model), data_version=";".join(Path(v).name for v in frames.sources),
            data_licence="the user's own recording of themselves", seed=config.train.seed,
            step=step, metrics={"final_loss": float(np.mean(losses[-20:])) if losses else None},
            extra={"training": asdict(config), "frames": int(len(frames.images)),
                   "held_out_frames": int(frames.held_out.sum()),
                   "arms": {"upper_arm": framing.upper_arm, "forearm": framing.forearm}})

    result = train(model, step_loss, manifest, out_path, config.train, resume=resume,
                   progress=progress, cancel=cancel)
    return replace(result, notes=(arms_note(framing),))


def signers_framing(framings: tuple[Framing, ...]) -> Framing:
    """The first video's framing (the model draws from its frames) with the arm lengths
    of every video that measured them (medians): the arms may hang in any of them."""
    measured = [f for f in framings if f.upper_arm > 0]
    if not measured:
        return framings[0]
    return replace(framings[0], upper_arm=float(np.median([f.upper_arm for f in measured])),
                   forearm=float(np.median([f.forearm for f in measured])))


def arms_note(framing: Framing) -> str:
    """How the signer's arms were measured (``pgmm_data.hanging_arm_lengths``)."""
    if framing.upper_arm > 0:
        return (f"arms measured where they hang: upper arm {framing.upper_arm:.2f}, forearm "
                f"{framing.forearm:.2f} shoulder widths; exports reach as far")
    return ("arms not measured (they never hang at rest in the recording): exports reach "
            "as far as the avatar's; let the arms hang for a second in a recording to "
            "measure them")


def load_pgmm(path: str | Path) -> Pgmm:
    """A trained photoreal model, checked (``CheckpointError`` naming the file)."""
    checkpoint = load_checkpoint(path, kind=KIND)
    framing = checkpoint.state_dict.get("framing")
    if framing is not None and tuple(framing.shape) == (6,):
        # trained before the arms were measured: their lengths read "not measured"
        checkpoint.state_dict["framing"] = torch.cat([framing, framing.new_zeros(2)])
    config = checked_config(checkpoint, PgmmConfig, checkpoint.config)
    model = build_checked(checkpoint, lambda: Pgmm(config))
    return model.eval()


# ------------------------------------------------------------------- evaluation
def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM of two (B, 3, H, W) batches in [0, 1] (``pytorch_msssim``)."""
    from pytorch_msssim import ssim as measure

    return float(measure(a, b, data_range=1.0, size_average=True, win_size=7))


def tcd(drawn: torch.Tensor, real: torch.Tensor, threshold: float = TCD_THRESHOLD) -> float:
    """Temporal Consistency Difference (the paper's eq. 12-13): the share of pixels
    whose drawn value differs by more than ``threshold`` from the mean of the real
    frames before and after. ``drawn``, ``real``: (T, 3, H, W) consecutive frames."""
    if len(drawn) < 3:
        raise ValueError("TCD needs 3 consecutive frames or more")
    around = (real[:-2] + real[2:]) / 2
    difference = (drawn[1:-1] - around).abs().mean(1)          # per pixel, over colour
    return float((difference > threshold).float().mean())


def hand_boxes(points: np.ndarray, seen: np.ndarray, size: int, margin: float = 0.25,
               smallest: int = 6) -> torch.Tensor:
    """(N, 1, size, size) float 0/1: where each frame's seen hands are, a box around
    each hand's keypoints (``points`` (N, K, 2) crop units, ``seen`` (N, K)) grown by
    ``margin`` of its side on each side and at least ``smallest`` pixels wide."""
    boxes = torch.zeros(len(points), 1, size, size)
    hands = (slice(len(BODY_POINTS), len(BODY_POINTS) + 21), slice(len(BODY_POINTS) + 21, None))
    for frame in range(len(points)):
        for hand in hands:
            found = points[frame, hand][seen[frame, hand] > 0]
            if len(found) == 0:
                continue
            low, high = (found.min(0) + 1) * size / 2, (found.max(0) + 1) * size / 2
            grow = np.maximum((high - low) * margin, (smallest - (high - low)) / 2)
            x0, y0 = np.clip(np.floor(low - grow), 0, size).astype(int)
            x1, y1 = np.clip(np.ceil(high + grow), 0, size).astype(int)
            boxes[frame, 0, y0:y1, x0:x1] = 1
    return boxes


@torch.no_grad()
def evaluate_pgmm(model: Pgmm, frames: SignerFrames, batch: int = 8) -> dict[str, dict[str, float]]:
    """L1, SSIM, TCD and the hands' L1 (``hand_boxes``; 0 when no hand is seen) on
    every held-out frame of the first video, drawn from the model's source frame, for
    the model and the two baselines (module docstring)."""
    held = np.flatnonzero(frames.held_out & (frames.video == 0))
    if len(held) < 3:
        raise ValueError("evaluation needs 3 held-out frames or more")
    train_frames = np.flatnonzero(~frames.held_out & (frames.video == 0))
    source = model.source_image[None]
    drawn = {"model": [], "nearest training frame": [], "keypoint warp": []}
    for start in range(0, len(held), batch):
        index = held[start:start + batch]
        _, points, seen = _tensors(frames, index)
        both = seen * model.source_seen[None]
        sources = source.expand(len(index), -1, -1, -1)
        src_points = model.source_points[None].expand(len(index), -1, -1)
        drawn["model"].append(model(sources, src_points, points, both)["image"])
        drawn["keypoint warp"].append(keypoint_flow_warp(sources, src_points, points, both))
        gap = (np.abs(frames.points[train_frames][None] - frames.points[index][:, None]).sum(-1)
               * frames.seen[index][:, None]).sum(-1)
        nearest = train_frames[gap.argmin(axis=1)]
        drawn["nearest training frame"].append(_tensors(frames, nearest)[0])
    real = _tensors(frames, held)[0]
    hands = hand_boxes(frames.points[held], frames.seen[held], frames.size)
    hand_pixels = max(float(hands.sum()) * 3, 1.0)
    return {name: {"l1": float((torch.cat(images) - real).abs().mean()),
                   "ssim": ssim(torch.cat(images), real),
                   "tcd": tcd(torch.cat(images), real),
                   "hands_l1": float(((torch.cat(images) - real).abs() * hands).sum()
                                     / hand_pixels)}
            for name, images in drawn.items()}

