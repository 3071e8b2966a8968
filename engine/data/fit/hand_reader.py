"""A learned reading of MediaPipe's hand points: the fitter's guess at the finger joints.

MediaPipe reads a hand with a bias that 2D points cannot undo: a fist comes out as a
half-curl, and the fitter explaining those points explains the half-curl
(docs/fitting.md, "A learned reading of MediaPipe's hand"). This network has learned
that reading from renders of the avatar whose finger angles are known
(``engine.workflows.hand_reader`` makes them; ``engine.learn.train_hand_reader``
trains it), and the fitter pulls each seen hand's fingers toward its guess
(``FitWeights.reader_pull``), so the 2D points still decide what they can tell.

Input: a hand's 21 MediaPipe points relative to the wrist, in 2D wrist-to-middle-knuckle
lengths, y up (``reading_features``). Output: the 15 finger joints' local rotations of a
right hand, SMPL-X axis-angle (radians). A left hand is read as its mirror image.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
from pydantic import Field

from engine.assets import assets_dir
from engine.body.reference_poses import mirror_hand_pose
from engine.checkpoint import CheckpointError, build_checked, checked_config, load_checkpoint
from engine.data.fit.ranges import joint_angles
from engine.file_cache import FileCache

KIND = "hand_reader"
#: The input layout a reader checkpoint was made for (its manifest's feature_version).
FEATURE_LAYOUT = "mediapipe-hand-21-2d-wrist-relative-v1"
CHECKPOINT_ASSET = "models/hand_reader.pt"
#: MediaPipe hand points, and the middle finger's knuckle (the unit of length).
HAND_POINTS = 21
MIDDLE_KNUCKLE = 9
#: The 15 finger joints in SMPL-X's hand-pose order.
FINGER_JOINTS = tuple(f"{finger}{k}" for finger in ("index", "middle", "pinky", "ring", "thumb")
                      for k in (1, 2, 3))


@dataclass(frozen=True)
class HandReaderConfig:
    """The network a reader checkpoint's manifest records: ``width`` units in each of
    ``layers`` hidden layers."""

    __pydantic_config__ = {"extra": "forbid"}

    width: Annotated[int, Field(ge=1, le=4096)] = 256
    layers: Annotated[int, Field(ge=1, le=8)] = 2


class HandReaderNet(torch.nn.Module):
    """(B, 42) ``reading_features`` -> (B, 15, 3) right-hand finger axis-angles."""

    def __init__(self, width: int = 256, layers: int = 2):
        super().__init__()
        self.config = HandReaderConfig(width=width, layers=layers)
        sizes = [2 * HAND_POINTS] + [width] * layers
        parts: list[torch.nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            parts += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        parts.append(torch.nn.Linear(sizes[-1], 3 * len(FINGER_JOINTS)))
        self.layers = torch.nn.Sequential(*parts)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features).reshape(len(features), len(FINGER_JOINTS), 3)


def reading_features(points: np.ndarray) -> np.ndarray:
    """(N, 21, 2 or 3) hand points, y up (a ``KeypointSequence``'s frame) -> (N, 42)
    float32: relative to the wrist, in 2D wrist-to-middle-knuckle lengths."""
    flat = np.asarray(points, np.float64)[..., :2]
    relative = flat - flat[:, :1]
    size = np.linalg.norm(relative[:, MIDDLE_KNUCKLE], axis=-1)[:, None, None]
    return (relative / np.maximum(size, 1e-9)).reshape(len(flat), -1).astype(np.float32)


class HandReader:
    """A loaded reader: ``read(points, side)`` guesses a hand's finger joints."""

    def __init__(self, net: HandReaderNet, manifest: dict | None = None):
        self.net = net.eval()
        self.manifest = dict(manifest or {})

    def read(self, points: np.ndarray, side: str = "right") -> np.ndarray:
        """(N, 21, 2+) MediaPipe points of one hand, y up -> (N, 15, 3) axis-angles of
        that hand's finger joints (radians). A left hand is mirrored in x, read as a
        right hand, and its rotations mirrored back."""
        points = np.array(points, np.float64)
        if side == "left":
            points[..., 0] *= -1
        with torch.no_grad():
            guess = self.net(torch.from_numpy(reading_features(points))).numpy()
        return mirror_hand_pose(guess) if side == "left" else guess


def load_hand_reader(path: str | Path) -> HandReader:
    """A HandReader from a checkpoint (verified, ``weights_only``); CheckpointError
    naming the file when it is missing, damaged, foreign or of another layout."""
    checkpoint = load_checkpoint(path, kind=KIND, feature_version=FEATURE_LAYOUT)
    # The manifest's config is the network's alone (the training settings are apart).
    config = checked_config(checkpoint, HandReaderConfig, checkpoint.config)
    net = build_checked(checkpoint, lambda: HandReaderNet(**asdict(config)))
    return HandReader(net, checkpoint.manifest)


def default_checkpoint_path() -> Path:
    """Where the shipped reader is looked for."""
    return assets_dir() / CHECKPOINT_ASSET


_cache: FileCache[HandReader] = FileCache(max_entries=2)


def shipped_hand_reader() -> HandReader | None:
    """The shipped reader, loaded once per file version; None when the file is absent
    (the fitter then fits from the 2D points alone and says so in its quality). A
    damaged file raises CheckpointError, saying what to do: silently fitting worse
    would hide it."""
    path = default_checkpoint_path()
    if not path.is_file():
        return None
    try:
        return _cache.get(path, load_hand_reader)
    except CheckpointError as error:
        raise CheckpointError(path, f"{error.problem}; reinstall Sign Studio, or remove the "
                                    "file to fit hands from their 2D points alone") from None


def euler_guess(skeleton, side: str, rotvec: np.ndarray) -> dict[int, np.ndarray]:
    """(F, 15, 3) finger axis-angles of one hand -> {Euler slot: (F, 3) angles} in the
    fitter's bounded parametrisation (``FitSkeleton``: abduction, flexion, twist about
    orthonormal axes, R = R1 R2 R3), the set of angles nearer the joint's range
    (``ranges.joint_angles``: a finger bent past 90 degrees too), clipped to it."""
    guess = {}
    for number, joint in enumerate(FINGER_JOINTS):
        slot = skeleton.euler_slot(f"{side}_{joint}")
        angles = joint_angles(skeleton, slot, rotvec[:, number])
        guess[slot] = np.clip(angles, skeleton.euler_limits[slot, :, 0],
                              skeleton.euler_limits[slot, :, 1])
    return guess
