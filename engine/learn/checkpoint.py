"""The learned motion models' checkpoints: ``engine.checkpoint``'s format with their
feature layout (``engine.learn.features.FEATURE_VERSION``) written into every manifest
and required of every file read, so a model made for another layout is refused by name
instead of producing odd motion. The other names are the format's own, imported here so
the models and their tests have one place to import checkpoints from.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from engine.checkpoint import (  # noqa: F401  (the format's names, for the models)
    FORMAT, FORMAT_VERSION, MAX_ARCHIVE_MEMBERS, READABLE_VERSIONS, Checkpoint,
    CheckpointError, build_checked, checked_config, checkpoint_digest, load_into,
    refused_as_unsafe, save_checkpoint, torch_archive_problem, weights_digest,
)
from engine.checkpoint import build_manifest as _build_manifest
from engine.checkpoint import load_checkpoint as _load_checkpoint
from engine.learn.features import FEATURE_VERSION


def build_manifest(kind: str, config: Mapping, *, data_version: str, data_licence: str,
                   metrics: Mapping | None = None, seed: int | None = None, step: int = 0,
                   extra: Mapping | None = None) -> dict:
    """``engine.checkpoint.build_manifest`` with the motion models' feature layout."""
    return _build_manifest(kind, config, feature_version=FEATURE_VERSION,
                           data_version=data_version, data_licence=data_licence,
                           metrics=metrics, seed=seed, step=step, extra=extra)


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """``engine.checkpoint.load_checkpoint`` requiring the motion models' feature layout."""
    return _load_checkpoint(path, kind, feature_version=FEATURE_VERSION)
