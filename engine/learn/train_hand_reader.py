"""Training the fitter's hand reader (``engine.data.fit.hand_reader``) on readings of
rendered hands (``engine.export.hand_readings``, made by ``engine.workflows.hand_reader``).

The loss is the squared error of the 45 finger axis-angle values; each step adds a
little noise to the input points (MediaPipe's readings of one hand jitter from frame to
frame). The manifest records the readings' digest as the data version, the letters'
licences, and the reader's error on a held-out tenth of the readings.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.checkpoint import build_manifest
from engine.data.fit.hand_reader import (
    FEATURE_LAYOUT, KIND, HandReaderConfig, HandReaderNet, reading_features,
)
from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.config import TrainConfig
from engine.learn.training import TrainResult, restores_torch_threads, train
from engine.metrics.joint_error import rotation_angle_deg

#: Share of the readings held out to report the reader's error in its manifest.
VALIDATION_SHARE = 0.1


@dataclass(frozen=True)
class HandReaderTrainConfig:
    """Everything a hand reader training run depends on (the manifest's ``training``);
    the defaults are the shipped reader's.

    ``renders``: avatar renders read by MediaPipe (about a tenth find no hand);
    ``held_out_languages``: letters never rendered (ASL's: ``bench/known_truth.py``
    scores the fitter on them); ``finger_jitter``, ``wrist_jitter`` (radians) and
    ``blend_share``: how the rendered hands vary, ``inventory_share``: the share of
    renders whose fingers are a handshape of the notation's inventory instead of a
    letter's (``render_hand_readings``);
    ``input_noise``: standard deviation added to the features each step (hand sizes).
    """

    model: HandReaderConfig = field(default_factory=HandReaderConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=4000, batch_size=256, lr=1e-3, weight_decay=1e-5, checkpoint_every=1000))
    renders: int = 8000
    render_seed: int = 1
    held_out_languages: tuple[str, ...] = ("ase",)
    finger_jitter: float = 0.12
    wrist_jitter: float = 0.25
    blend_share: float = 0.5
    inventory_share: float = 0.0
    input_noise: float = 0.01

    def __post_init__(self):
        if self.renders < 10:
            raise ValueError(f"renders: expected at least 10, got {self.renders!r}")
        for name in ("finger_jitter", "wrist_jitter", "input_noise"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: expected a number >= 0, got {getattr(self, name)!r}")
        for name in ("blend_share", "inventory_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: expected a share in [0, 1], got {getattr(self, name)!r}")


def readings_digest(points: np.ndarray, poses: np.ndarray) -> str:
    """The data version of a set of readings: a digest of the points and poses."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(points, np.float64), np.ascontiguousarray(poses, np.float32)):
        digest.update(f"{array.shape}|".encode())
        digest.update(array.tobytes())
    return f"{len(points)}hands-{digest.hexdigest()[:16]}"


@restores_torch_threads
def fit_hand_reader(points: np.ndarray, poses: np.ndarray, out: str | Path,
                    config: HandReaderTrainConfig, *, data_licence: str, resume: bool = False,
                    progress: Progress = no_progress, cancel: CancelToken | None = None,
                    ) -> TrainResult:
    """Train a reader on ``points`` (N, 21, 2+) MediaPipe hands in the keypoint frame
    (y up) and ``poses`` (N, 15, 3) their right-hand finger axis-angles; write ``out``.

    A tenth of the readings (every tenth) is held out; the manifest's metrics give the
    mean finger-joint error on them, degrees.
    """
    if len(points) < 10 or len(points) != len(poses):
        raise ValueError(f"hand reader: need at least 10 readings with one pose each, got "
                         f"{len(points)} readings and {len(poses)} poses")
    # One thread: the order of additions is then the same on every machine, and the
    # run takes seconds anyway.
    torch.set_num_threads(1)
    features = reading_features(points)
    targets = np.asarray(poses, np.float32).reshape(len(poses), -1)
    held = np.arange(len(points)) % round(1 / VALIDATION_SHARE) == 0
    x, y = torch.from_numpy(features[~held]), torch.from_numpy(targets[~held])
    # The initial weights are drawn here, before the loop seeds its own generators.
    torch.manual_seed(config.train.seed)
    net = HandReaderNet(**asdict(config.model))

    def step_loss(model: torch.nn.Module, generator: torch.Generator) -> torch.Tensor:
        batch = torch.randint(0, len(x), (config.train.batch_size,), generator=generator)
        noise = config.input_noise * torch.randn(x[batch].shape, generator=generator)
        return ((model(x[batch] + noise).reshape(len(batch), -1) - y[batch]) ** 2).mean()

    version = readings_digest(points, poses)

    def manifest(step: int, losses: list[float]) -> dict:
        metrics = {}
        if step == config.train.steps:
            with torch.no_grad():
                guessed = net(torch.from_numpy(features[held])).numpy()
            metrics = {"held_out_readings": int(held.sum()),
                       "held_out_finger_error_deg": float(rotation_angle_deg(
                           np.asarray(poses, np.float32)[held], guessed).mean())}
        return build_manifest(KIND, asdict(config.model), feature_version=FEATURE_LAYOUT,
                              data_version=version, data_licence=data_licence,
                              metrics=metrics, seed=config.train.seed, step=step,
                              extra={"training": asdict(config)})

    return train(net, step_loss, manifest, out, config.train, resume=resume,
                 progress=progress, cancel=cancel)
