"""One training loop for every model: seeded, resumable, with progress and cancel.

A model's trainer supplies ``step_loss(model, generator) -> scalar tensor`` (it draws its
own batch and noise from ``generator``, so a run is a pure function of the seed) and a
``manifest(step, losses)`` callback; this loop owns the optimiser, the schedule, the
checkpoints and the resume logic, so that every ``signstudio-cli train ...`` behaves
the same way.

Resuming: every ``checkpoint_every`` steps (and on cancel) the loop writes
``<out>.resume.pt`` with the weights, the optimiser's moments, the step, the RNG state
and the loss history. ``train(..., resume=True)`` continues from it and, for the same
seed, ends bit-identical to an uninterrupted run on CPU (tested). The final checkpoint
``<out>`` has the weights and manifest only; the resume file is removed once it exists.
The loop's settings are ``engine.learn.config.TrainConfig``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.jobs import Cancelled, CancelToken, Progress, no_progress
from engine.checkpoint import CheckpointError, load_checkpoint, load_into, save_checkpoint
from engine.learn.config import TrainConfig


@dataclass
class TrainResult:
    """``losses``: the loss at every step, resumed steps included; ``notes``: what the
    user should know about the data or the model, one line each."""

    path: Path
    steps: int
    losses: list[float] = field(default_factory=list)
    notes: tuple[str, ...] = ()



def restores_torch_threads(function: Callable) -> Callable:
    """Decorate a trainer that sets torch's thread count so the caller's count is back
    when it returns. The count belongs to the calling thread while new threads start on
    torch's default: a trainer that left the GUI thread on 1 made the studio's test
    recomputations differ (in the last bits) from the same edit computed in a job."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        previous = torch.get_num_threads()
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(previous)
    return wrapper


def resume_path(out_path: str | Path) -> Path:
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".resume.pt")


def train(model: torch.nn.Module, step_loss: Callable[[torch.nn.Module, torch.Generator], torch.Tensor],
          manifest: Callable[[int, list[float]], dict], out_path: str | Path, config: TrainConfig,
          *, resume: bool = False, progress: Progress = no_progress,
          cancel: CancelToken | None = None) -> TrainResult:
    """Train ``model`` in place for ``config.steps`` steps and write ``out_path``.

    ``manifest(step, losses)`` returns the manifest dict to save (see
    ``engine.learn.checkpoint.build_manifest``); it is called for the resume files too.
    On cancel, the resume file is written and ``Cancelled`` re-raised.
    """
    out_path = Path(out_path)
    resume_file = resume_path(out_path)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses: list[float] = []
    step = 0
    if resume and resume_file.exists():
        # The file must be of this run's layout: the one its own manifests record.
        saved = load_checkpoint(resume_file, feature_version=manifest(0, [])["feature_version"])
        if not isinstance(saved.training_state, dict):
            raise CheckpointError(resume_file, "not a resumable training checkpoint")
        load_into(model, saved)
        try:
            optimiser.load_state_dict(saved.training_state["optimiser"])
            generator.set_state(saved.training_state["generator"])
            torch.set_rng_state(saved.training_state["torch_rng"])  # dropout draws from it
            step = int(saved.training_state["step"])
            losses = [float(x) for x in saved.training_state["losses"].tolist()]
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            raise CheckpointError(resume_file, f"training state is damaged or was saved for "
                                               f"other settings ({type(error).__name__}: "
                                               f"{error})") from None

    def save_resume() -> None:
        save_checkpoint(resume_file, model.state_dict(), manifest(step, losses), training_state={
            "optimiser": optimiser.state_dict(), "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "step": step, "losses": torch.tensor(losses, dtype=torch.float64)})

    model.train()
    try:
        while step < config.steps:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            for group in optimiser.param_groups:
                group["lr"] = config.learning_rate(step)
            loss = step_loss(model, generator)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"training diverged at step {step}: loss {loss.item()}")
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            losses.append(float(loss.detach()))
            step += 1
            if step % config.checkpoint_every == 0 and step < config.steps:
                save_resume()
            if step % 10 == 0 or step == config.steps:
                recent = losses[-10:]
                progress(step, config.steps, f"loss {sum(recent) / len(recent):.4f}")
    except Cancelled:
        save_resume()
        raise
    model.eval()
    save_checkpoint(out_path, model.state_dict(), manifest(step, losses))
    resume_file.unlink(missing_ok=True)
    return TrainResult(path=out_path, steps=step, losses=losses)
