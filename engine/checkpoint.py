"""Model checkpoints: weights plus a manifest, written atomically, read without pickle.

Every learned model's file format: the motion models' (``engine.learn.checkpoint`` binds
their feature layout) and the fitter's hand reader (``engine.data.fit.hand_reader``),
which sits below ``engine.learn`` in the layers and so reads this module directly.

A checkpoint is one ``torch.save`` file holding only tensors, strings and numbers::

    {"format": "signstudio-checkpoint", "format_version": 2,
     "manifest": "<JSON>", "weights_sha256": "<hex>", "sha256": "<hex>",
     "state_dict": {name: Tensor},
     "training_state": {...}  # only in resumable training checkpoints}

and is read back with ``torch.load(..., weights_only=True)``, so a file from elsewhere
cannot run code when opened. The manifest records what a user or reviewer needs to trust
a model: its kind and config, the feature layout, the data it saw (``data_version``),
the licence of that data, its evaluation metrics, the seed and step, and the software
versions. ``weights_sha256`` covers every tensor's name, dtype, shape and bytes, and
``sha256`` covers the manifest text and that digest together, so an edited manifest or
weight is refused instead of silently producing odd motion. Version 1 files (no
``sha256``: the manifest unprotected) are still read.

A digest catches damage, not malice: anyone can recompute it. What keeps a crafted
manifest harmless is ``checked_config`` (the model settings checked against their
schema: types, ranges, cross-field rules) and ``build_checked`` (the model built on
torch's "meta" device first, which allocates nothing, and its tensor shapes compared
with the file's), both before any real module is built.

Why not safetensors: it would add a dependency for what ``weights_only`` already gives
us, and we need the nested training state (optimizer moments) in the same file to resume.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import pickle
import platform
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from pydantic import TypeAdapter, ValidationError

from engine.atomic import atomic_output

FORMAT = "signstudio-checkpoint"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


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


def checkpoint_digest(manifest_text: str, weights_sha256: str) -> str:
    """sha256 over the manifest's JSON text and the weights' digest (format 2)."""
    return hashlib.sha256(f"{manifest_text}\n{weights_sha256}".encode()).hexdigest()


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


def build_manifest(kind: str, config: Mapping, *, feature_version: str, data_version: str,
                   data_licence: str, metrics: Mapping | None = None, seed: int | None = None,
                   step: int = 0, extra: Mapping | None = None) -> dict:
    """The manifest every checkpoint carries (see the module docstring);
    ``feature_version`` names the layout of the model's inputs."""
    return _jsonable({
        "kind": kind,
        "config": dict(config),
        "feature_version": feature_version,
        "data_version": data_version,
        "data_licence": data_licence,
        "metrics": dict(metrics or {}),
        "seed": seed,
        "step": step,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "software": {"torch": torch.__version__, "python": platform.python_version(),
                     "numpy": np.__version__},
        **dict(extra or {}),
    })


def save_checkpoint(path: str | Path, state_dict: Mapping[str, torch.Tensor], manifest: Mapping,
                    training_state: Mapping | None = None) -> Path:
    """Write a checkpoint atomically (a crash or cancel leaves the old file untouched)."""
    state = {name: tensor.detach().cpu().clone() for name, tensor in state_dict.items()}
    manifest_text = json.dumps(_jsonable(dict(manifest)), sort_keys=True)
    weights_sha256 = weights_digest(state)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "manifest": manifest_text,
        "weights_sha256": weights_sha256,
        "sha256": checkpoint_digest(manifest_text, weights_sha256),
        "state_dict": state,
    }
    if training_state is not None:
        payload["training_state"] = dict(training_state)
    path = Path(path)
    with atomic_output(path) as temp:
        torch.save(payload, temp)
    return path


def refused_as_unsafe(error: BaseException) -> bool:
    """Whether ``torch.load(..., weights_only=True)`` raised ``error`` because the file
    holds Python objects it would have to unpickle (not because it is damaged)."""
    text = str(error)
    return isinstance(error, pickle.UnpicklingError) and (
        "allowed global" in text or "Unsupported global" in text)


#: Most members a torch archive we load may have (ours have a few hundred tensors).
MAX_ARCHIVE_MEMBERS = 20_000


def torch_archive_problem(path: Path) -> str | None:
    """Why a torch file must not be handed to ``torch.load``, or None. ``torch.save``
    stores members uncompressed, so a compressed member, or members adding up to more
    than the file, can only be a compression bomb (``torch.load`` would inflate it in
    full, before any check of ours)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None  # not a ZIP: torch.load refuses it (or reads the legacy format)
    if len(members) > MAX_ARCHIVE_MEMBERS:
        return f"it has {len(members):,} members; a model has at most {MAX_ARCHIVE_MEMBERS:,}"
    if any(member.compress_type != zipfile.ZIP_STORED for member in members):
        return "it has compressed members, which torch never writes"
    if sum(member.file_size for member in members) > path.stat().st_size:
        return "its members claim more bytes than the file holds"
    return None


def load_checkpoint(path: str | Path, kind: str | None = None, *,
                    feature_version: str | None) -> Checkpoint:
    """Read and verify a checkpoint.

    Raises ``CheckpointError`` naming the file when it is missing, not a checkpoint
    (or not loadable without pickle), of another kind than ``kind``, made for another
    feature layout than ``feature_version`` (None: any layout, for a caller that checks
    it itself), or when its weights do not match their recorded digest.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such checkpoint file")
    problem = torch_archive_problem(path)
    if problem:
        raise CheckpointError(path, f"not a Sign Studio checkpoint: {problem}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for foreign, truncated or damaged files
        # torch's own message suggests loading with pickling on; we never pass it on.
        if refused_as_unsafe(error):
            raise CheckpointError(path, "not a Sign Studio checkpoint: it holds Python objects "
                                        "other than tensors, numbers and strings, which Sign "
                                        "Studio never loads (they could run code)") from None
        raise CheckpointError(path, "not a Sign Studio checkpoint: not a readable torch "
                                    "archive (damaged, truncated, or another kind of file)"
                              ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(path, f"not a Sign Studio checkpoint (expected format {FORMAT!r})")
    version = payload.get("format_version")
    if version not in READABLE_VERSIONS:
        raise CheckpointError(path, f"checkpoint format version {version!r}; this Sign "
                                    f"Studio reads versions {READABLE_VERSIONS}")
    manifest_text = payload.get("manifest")
    state_dict = payload.get("state_dict")
    recorded = payload.get("weights_sha256")
    if not isinstance(manifest_text, str) or not isinstance(recorded, str):
        raise CheckpointError(path, "manifest or weights digest missing or not text")
    if not isinstance(state_dict, dict) or not all(
            isinstance(name, str) and isinstance(tensor, torch.Tensor)
            for name, tensor in state_dict.items()):
        raise CheckpointError(path, "state_dict: expected a mapping of names to tensors")
    if weights_digest(state_dict) != recorded:
        raise CheckpointError(path, "weights do not match their recorded sha256: the file was "
                                    "modified or damaged after it was saved")
    if version >= 2 and payload.get("sha256") != checkpoint_digest(manifest_text, recorded):
        raise CheckpointError(path, "manifest does not match the recorded sha256: the file was "
                                    "modified or damaged after it was saved")
    try:
        manifest = json.loads(manifest_text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(path, f"manifest is not valid JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise CheckpointError(path, "manifest: expected a JSON object")
    for required in ("kind", "config", "feature_version", "data_version", "data_licence"):
        if required not in manifest:
            raise CheckpointError(path, f"manifest: missing field {required!r}")
    if kind is not None and manifest["kind"] != kind:
        raise CheckpointError(path, f"manifest.kind is {manifest['kind']!r}, expected {kind!r}")
    if not isinstance(manifest["config"], dict):
        raise CheckpointError(path, "manifest.config: expected a JSON object")
    if feature_version is not None and manifest["feature_version"] != feature_version:
        raise CheckpointError(path, f"manifest.feature_version is {manifest['feature_version']!r}; "
                                    f"this Sign Studio uses {feature_version!r}: retrain the model")
    return Checkpoint(path=path, manifest=manifest, state_dict=state_dict,
                      training_state=payload.get("training_state"))


ConfigT = TypeVar("ConfigT")
ModuleT = TypeVar("ModuleT", bound=torch.nn.Module)


def checked_config(checkpoint: Checkpoint, config_type: type[ConfigT], data: Any,
                   field: str = "config") -> ConfigT:
    """``data`` (from the manifest) as a ``config_type`` after checking it against the
    type's schema: its annotated types and ranges, no unknown fields, and its
    ``__post_init__`` rules. pydantic does the checking, in strict mode (no "160" for
    160); a CheckpointError names the field, what was expected and what was found."""
    try:
        return TypeAdapter(config_type).validate_json(json.dumps(data), strict=True)
    except ValidationError as error:
        problems = []
        for issue in error.errors()[:3]:
            location = ".".join(str(part) for part in (field, *issue["loc"]))
            message = issue["msg"].removeprefix("Value error, ")
            if issue["loc"]:  # a field's own value; a rule across fields names them itself
                message += f" (found {repr(issue.get('input'))[:80]})"
            problems.append(f"manifest.{location}: {message}")
        raise CheckpointError(checkpoint.path, "; ".join(problems)) from None


def build_checked(checkpoint: Checkpoint, make_model: Callable[[], ModuleT]) -> ModuleT:
    """``make_model()`` with the checkpoint's weights loaded, built only once its
    tensor names and shapes are known to match the file's.

    The first build is on torch's "meta" device, which allocates no memory, so settings
    that describe a model bigger than the file (or of another layout) are refused
    before they cost anything.
    """
    try:
        with torch.device("meta"):
            layout = {name: tuple(t.shape) for name, t in make_model().state_dict().items()}
    except (ValueError, RuntimeError, AssertionError) as error:
        raise CheckpointError(checkpoint.path, f"manifest.config does not describe a model "
                                               f"that can be built ({error})") from None
    found = {name: tuple(t.shape) for name, t in checkpoint.state_dict.items()}
    if layout != found:
        missing = sorted(set(layout) - set(found))
        unexpected = sorted(set(found) - set(layout))
        resized = sorted(n for n in set(layout) & set(found) if layout[n] != found[n])
        detail = (f"the file lacks {missing[:3]}" if missing else
                  f"the file has unexpected {unexpected[:3]}" if unexpected else
                  f"'{resized[0]}' is {found[resized[0]]} in the file, "
                  f"{layout[resized[0]]} in the model")
        raise CheckpointError(checkpoint.path, f"weights do not fit the model its config "
                                               f"describes: {detail}")
    return load_into(make_model(), checkpoint)


def load_into(model: torch.nn.Module, checkpoint: Checkpoint) -> torch.nn.Module:
    """``model.load_state_dict`` with a CheckpointError naming the file on a mismatch."""
    try:
        model.load_state_dict(checkpoint.state_dict, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(checkpoint.path, f"weights do not fit the model its config "
                                               f"describes: {first}") from None
    return model
