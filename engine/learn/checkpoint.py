"""Model checkpoints: weights plus a manifest, written atomically, read without pickle.

A checkpoint is one ``torch.save`` file holding only tensors, strings and numbers::

    {"format": "signstudio-checkpoint", "format_version": 1,
     "manifest": "<JSON>", "weights_sha256": "<hex>", "state_dict": {name: Tensor},
     "training_state": {...}  # only in resumable training checkpoints}

and is read back with ``torch.load(..., weights_only=True)``, so a file from elsewhere
cannot run code when opened. The manifest records what a user or reviewer needs to trust
a model: its kind and config, the feature layout, the data it saw (``data_version``),
the licence of that data, its evaluation metrics, the seed and step, and the software
versions. ``weights_sha256`` covers every tensor's name, dtype, shape and bytes, so an
edited or truncated weight is refused instead of silently producing odd motion.

Why not safetensors: it would add a dependency for what ``weights_only`` already gives
us, and we need the nested training state (optimizer moments) in the same file to resume.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from engine.atomic import atomic_output
from engine.learn.features import FEATURE_VERSION

FORMAT = "signstudio-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint could not be read or does not fit; names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class Checkpoint:
    """A loaded checkpoint: ``state_dict`` for ``model.load_state_dict``, its manifest,
    and (for resumable training checkpoints) the training state."""

    path: Path
    manifest: dict
    state_dict: dict[str, torch.Tensor]
    training_state: dict | None = None

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def config(self) -> dict:
        return self.manifest["config"]


def weights_digest(state_dict: Mapping[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def build_manifest(kind: str, config: Mapping, *, data_version: str, data_licence: str,
                   metrics: Mapping | None = None, seed: int | None = None, step: int = 0,
                   extra: Mapping | None = None) -> dict:
    """The manifest every checkpoint carries (see the module docstring)."""
    return _jsonable({
        "kind": kind,
        "config": dict(config),
        "feature_version": FEATURE_VERSION,
        "data_version": data_version,
        "data_licence": data_licence,
        "metrics": dict(metrics or {}),
        "seed": seed,
        "step": step,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "software": {"torch": torch.__version__, "python": platform.python_version(),
                     "numpy": np.__version__},
        **dict(extra or {}),
    })


def save_checkpoint(path: str | Path, state_dict: Mapping[str, torch.Tensor], manifest: Mapping,
                    training_state: Mapping | None = None) -> Path:
    """Write a checkpoint atomically (a crash or cancel leaves the old file untouched)."""
    state = {name: tensor.detach().cpu().clone() for name, tensor in state_dict.items()}
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "manifest": json.dumps(_jsonable(dict(manifest)), sort_keys=True),
        "weights_sha256": weights_digest(state),
        "state_dict": state,
    }
    if training_state is not None:
        payload["training_state"] = dict(training_state)
    path = Path(path)
    with atomic_output(path) as temp:
        torch.save(payload, temp)
    return path


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """Read and verify a checkpoint.

    Raises ``CheckpointError`` naming the file when it is missing, not a checkpoint
    (or not loadable without pickle), of another kind than ``kind``, made for another
    feature layout, or when its weights do not match their recorded digest.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for foreign or truncated files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            path, f"not a readable Sign Studio checkpoint (loaded without pickle): {reason}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(path, f"not a Sign Studio checkpoint (expected format {FORMAT!r})")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(path, f"checkpoint format version {payload.get('format_version')!r}; "
                                    f"this Sign Studio reads version {FORMAT_VERSION}")
    try:
        manifest = json.loads(payload["manifest"])
        state_dict = payload["state_dict"]
        recorded = payload["weights_sha256"]
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise CheckpointError(path, f"manifest or weights missing or unreadable ({error})") from None
    if not isinstance(state_dict, dict) or not all(isinstance(t, torch.Tensor) for t in state_dict.values()):
        raise CheckpointError(path, "state_dict: expected a mapping of names to tensors")
    if weights_digest(state_dict) != recorded:
        raise CheckpointError(path, "weights do not match their recorded sha256: the file was "
                                    "modified or damaged after it was saved")
    for required in ("kind", "config", "feature_version", "data_version", "data_licence"):
        if required not in manifest:
            raise CheckpointError(path, f"manifest: missing field {required!r}")
    if kind is not None and manifest["kind"] != kind:
        raise CheckpointError(path, f"manifest.kind is {manifest['kind']!r}, expected {kind!r}")
    if manifest["feature_version"] != FEATURE_VERSION:
        raise CheckpointError(path, f"manifest.feature_version is {manifest['feature_version']!r}; "
                                    f"this Sign Studio uses {FEATURE_VERSION!r}: retrain the model")
    return Checkpoint(path=path, manifest=manifest, state_dict=state_dict,
                      training_state=payload.get("training_state"))


def load_into(model: torch.nn.Module, checkpoint: Checkpoint) -> torch.nn.Module:
    """``model.load_state_dict`` with a CheckpointError naming the file on a mismatch."""
    try:
        model.load_state_dict(checkpoint.state_dict, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(checkpoint.path, f"weights do not fit the model its config "
                                               f"describes: {first}") from None
    return model
