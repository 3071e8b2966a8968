"""The settings every trainer shares: ``TrainConfig``, ``SplitConfig``, ``SamplingConfig``.

Each trainer's config has one shape: ``model`` (the network's own config class), ``train``
(``TrainConfig``: the loop), ``split`` (``SplitConfig``: the clips it may learn from),
for the flow model ``sampling`` (``SamplingConfig``), then the few settings of its own
examples and loss. They are frozen dataclasses, so any field is reached by a dotted
path: ``with_overrides(config, ["train.lr=0.001"])`` (the CLI's ``--set``) has OmegaConf
merge and type-check the values, then each dataclass's own checks and pydantic's schema
(``engine.learn.schema``) refuse values out of range.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from engine.learn.schema import FORBID_UNKNOWN_FIELDS
from engine.motion.errors import UsageError

ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True)
class TrainConfig:
    """The training loop's settings (``engine.learn.training.train``), the same for
    every model. ``batch_size``: examples per step. ``lr`` warms up linearly over
    ``warmup`` steps (None: a tenth of the run, at most 100 steps), then follows a
    cosine to ``lr * final_lr_fraction`` at ``steps``. ``checkpoint_every``: steps
    between resume files."""

    steps: int = 2000
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int | None = None
    final_lr_fraction: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 250

    def __post_init__(self):
        for name in ("steps", "batch_size", "checkpoint_every"):
            _check_count(self, name, low=1)
        if self.warmup is not None:
            _check_count(self, "warmup", low=0)
        for name in ("lr", "grad_clip"):
            if not getattr(self, name) > 0:
                raise ValueError(f"train: {name}: expected a number > 0, got {getattr(self, name)!r}")

    @property
    def warmup_steps(self) -> int:
        return min(100, self.steps // 10) if self.warmup is None else self.warmup

    def learning_rate(self, step: int) -> float:
        warmup = self.warmup_steps
        if step < warmup:
            return self.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, self.steps - warmup)
        floor = self.lr * self.final_lr_fraction
        return floor + (self.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class SplitConfig:
    """Which clips a model may learn from; every other clip is held out, to evaluate on.

    Two kinds of clips are held out, in every trainer alike:

    * every clip of ``held_out_languages``: those sign languages are never trained on
      (nor validated on), so an evaluation on them measures transfer to signers the
      model never saw (``engine.generate.eval_kf2p``'s ``split="languages"``);
    * of the other languages, the share ``held_out_fraction`` of whole clips, chosen by
      a hash of each clip's source (``engine.learn.dataset.split_clips``: stable across
      runs and machines); 0 holds none out this way.
    """

    held_out_fraction: float = 0.15
    held_out_languages: tuple[str, ...] = ()

    def __post_init__(self):
        if not 0.0 <= self.held_out_fraction < 1.0:
            raise ValueError(f"split: held_out_fraction: expected a number in [0, 1), got "
                             f"{self.held_out_fraction!r}")
        if isinstance(self.held_out_languages, str) or not all(
                isinstance(code, str) and code.strip() for code in self.held_out_languages):
            raise ValueError(f"split: held_out_languages: expected language codes such as "
                             f"('bzs', 'swl'), got {self.held_out_languages!r}")


#: The fixed-grid ODE solvers the flow sampler integrates with (torchdiffeq's names).
Solver = Literal["euler", "midpoint", "rk4"]
SOLVERS: tuple[str, ...] = typing.get_args(Solver)


@dataclass(frozen=True)
class SamplingConfig:
    """How the flow model is sampled (``engine.learn.flow.sample``). The weights do not
    depend on it, so it can be chosen after training; a checkpoint records its own.

    ``steps``: fixed-grid ODE steps of ``method``. ``temperature``: the starting noise's
    scale (0: the deterministic flow from the origin). ``mean_first``: candidate 0 is
    the model's conditional-mean estimate (one network evaluation). ``correction_scale``:
    how much of the network's correction to the spline in-between KF2P applies (0: the
    spline, 1: the network as trained). The defaults are the shipped model's
    (``assets/models/flow_kf2p.pt``), chosen on validation data: docs/learned-models.md.
    """

    __pydantic_config__ = FORBID_UNKNOWN_FIELDS

    steps: int = 4
    method: Solver = "euler"
    temperature: float = 0.25
    mean_first: bool = False
    correction_scale: float = 0.5

    def __post_init__(self):
        _check_count(self, "steps", low=1, high=1000)
        if self.method not in SOLVERS:
            raise ValueError(f"sampling: method: expected one of "
                             f"{', '.join(map(repr, SOLVERS))}, got {self.method!r}")
        if not 0.0 <= self.temperature <= 10.0:
            raise ValueError(f"sampling: temperature: expected a number in [0, 10], got "
                             f"{self.temperature!r}")
        if not isinstance(self.mean_first, bool):
            raise ValueError(f"sampling: mean_first: expected true or false, got "
                             f"{self.mean_first!r}")
        if not 0.0 <= self.correction_scale <= 1.0:
            raise ValueError(f"sampling: correction_scale: expected a number in [0, 1], got "
                             f"{self.correction_scale!r}")


def _check_count(config, name: str, low: int, high: int | None = None) -> None:
    value = getattr(config, name)
    section = type(config).__name__.removesuffix("Config").lower()
    if (isinstance(value, bool) or not isinstance(value, int) or value < low
            or (high is not None and value > high)):
        span = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{section}: {name}: expected a whole number {span}, got {value!r}")


# ------------------------------------------------------------------------- overrides
def with_overrides(config: ConfigT, settings: Sequence[str]) -> ConfigT:
    """``config`` with ``settings`` applied, each ``"path=value"``: the path dotted
    through nested configs (``"train.lr=0.001"``, ``"sampling.mean_first=true"``), the
    value as YAML reads it (``"split.held_out_languages=[bzs,swl]"``).

    Raises UsageError, one line naming the setting, the field and what it expects,
    for a setting without ``=``, an unknown path, a value of the wrong type, or a value
    the config refuses (out of range, or inconsistent with another field).
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not settings:
        return config
    merged = OmegaConf.structured(config)
    for item in settings:
        path, equals, _ = item.partition("=")
        if not equals or not path.strip():
            raise UsageError(f"{item}: expected PATH=VALUE, e.g. train.lr=0.001")
        try:
            # One at a time, so a problem is pinned on the setting that caused it.
            merged = OmegaConf.merge(merged, OmegaConf.from_dotlist([item]))
        except OmegaConfBaseException as error:
            raise UsageError(f"{item}: {_problem(config, path.strip(), error)}") from None
    try:
        result = OmegaConf.to_object(merged)
        _schema_check(result, [item.partition("=")[0].strip() for item in settings])
    except (OmegaConfBaseException, ValueError) as error:
        # A rule across fields (or a range) refused the whole set, not one item.
        raise UsageError(f"{', '.join(settings)}: {_first_line(error)}") from None
    return result


def from_dict(config_type: type[ConfigT], data: dict) -> ConfigT:
    """A ``config_type`` from the dict ``dataclasses.asdict`` wrote (a manifest's
    record): nested configs rebuilt, lists back to tuples, fields it lacks at their
    defaults. ValueError names the first field that does not fit."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(config_type), data))
    except OmegaConfBaseException as error:
        raise ValueError(f"{config_type.__name__}: {_first_line(error)}") from None


def _schema_check(config, paths: Sequence[str]) -> None:
    """The pydantic schema's ranges (``engine.learn.schema``), which OmegaConf does not
    read, on the fields at ``paths``; ValueError naming the first one out of range.
    Only those: a field the trainer fills in from the data (the recognizer's classes)
    is a placeholder until then. Rules across fields ran when OmegaConf built the
    dataclasses."""
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(type(config)).validate_python(dataclasses.asdict(config))
    except ValidationError as error:
        for issue in error.errors():
            where = ".".join(str(part) for part in issue["loc"])
            if any(where == path or where.startswith(path + ".") for path in paths):
                message = issue["msg"].removeprefix("Value error, ")
                raise ValueError(f"{where}: {message}") from None


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _problem(config, path: str, error: BaseException) -> str:
    """What is wrong with setting ``path``: an unknown field (with the fields there
    are), or a value of the wrong type (with the type expected)."""
    owner, annotation = config, None
    parts = path.split(".")
    for depth, name in enumerate(parts):
        fields = _field_types(owner)
        if name not in fields:
            where = ".".join(parts[:depth])
            return (f"{where + ' has' if where else 'there is'} no field {name!r}; expected "
                    f"one of {', '.join(_field_names(owner))}")
        annotation = fields[name]
        if depth < len(parts) - 1:
            owner = getattr(owner, name)
            if not dataclasses.is_dataclass(owner):
                return f"{'.'.join(parts[:depth + 1])} has no fields"
    return f"{path} expects {_describe(annotation)} ({_first_line(error)})"


def _field_types(config) -> dict[str, object]:
    hints = typing.get_type_hints(type(config))
    return {f.name: hints[f.name] for f in dataclasses.fields(config)}


def _field_names(config) -> list[str]:
    """Field names, nested configs as ``name.*``."""
    return [f"{f.name}.*" if dataclasses.is_dataclass(getattr(config, f.name)) else f.name
            for f in dataclasses.fields(config)]


def _describe(annotation) -> str:
    """A type annotation in words: "a whole number", "one of 'euler', 'midpoint'"..."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _describe(args[0])
    if origin is Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin in (typing.Union, types.UnionType):
        kinds = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(kinds) + (" or null" if type(None) in args else "")
    if origin in (tuple, list):
        return "a list such as [a,b]"
    return {bool: "true or false", int: "a whole number", float: "a number",
            str: "text"}.get(annotation, getattr(annotation, "__name__", str(annotation)))
