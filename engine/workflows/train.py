"""Train a learned model; evaluate the learned models on held-out data.

``train_model(TrainOptions(model="flow", out=...))`` trains one of ``TRAINERS`` from its
default config (``engine.learn.config``: the shipped model's settings) with the
options' changes; ``evaluate_models(EvalOptions(...))`` scores KF2P, text-to-pose and
segmentation on clips the models never saw. Both refuse a bad request with
``UsageError`` before any slow work, and take ``progress``/``cancel``.
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.jobs import Cancelled, CancelToken, Progress, no_progress
from engine.motion.errors import UsageError

#: Model name -> (module, trainer function, config class), imported when used: the
#: trainers import torch, which costs seconds.
TRAINERS = {
    "flow": ("engine.learn.train_flow", "train_flow", "FlowTrainConfig"),
    "cvae": ("engine.learn.train_cvae", "train_cvae", "CvaeTrainConfig"),
    "recognizer": ("engine.learn.train_recognizer", "train_recognizer", "RecognizerTrainConfig"),
    "segmenter": ("engine.learn.train_segmenter", "train_segmenter", "SegmenterTrainConfig"),
    "pgmm": ("engine.learn.train_pgmm", "train_pgmm", "PgmmTrainConfig"),
    "hand_reader": ("engine.workflows.hand_reader", "train_hand_reader", "HandReaderTrainConfig"),
}
#: Models that learn from the user's videos of themselves, not from the lexicon.
FROM_VIDEOS = ("pgmm",)
#: Models that learn from renders of the lexicon's letters, not from its clips: they
#: have no clip split (their held-out languages are letters never rendered).
FROM_RENDERS = ("hand_reader",)

#: What ``evaluate_models`` can evaluate, in the order it does.
EVAL_PARTS = ("kf2p", "generation", "segmenter")


@dataclass(frozen=True)
class TrainOptions:
    """What to train.

    ``model``: a name in ``TRAINERS``; ``out``: the checkpoint to write (``<out>.resume.pt``
    while training); ``lexicon``: the lexicon database (None: the user's). ``settings``:
    ``"path=value"`` changes to any field of the trainer's config, e.g. ``"train.lr=
    0.0005"`` (``engine.learn.config.with_overrides``); then ``steps``, ``seed`` and
    ``held_out_languages`` set ``train.steps``, ``train.seed`` and
    ``split.held_out_languages`` (languages never trained on; the other languages'
    clips are still split by hash, ``SplitConfig``). ``resume``: continue from the
    resume file. ``clip_weights`` / ``clip_model``: condition the CVAE through CLIP.
    ``videos``: the recordings of one signer a photoreal model (``pgmm``) learns from.
    """

    model: str
    out: Path
    lexicon: Path | None = None
    settings: tuple[str, ...] = ()
    steps: int | None = None
    seed: int | None = None
    held_out_languages: tuple[str, ...] = ()
    resume: bool = False
    clip_weights: Path | None = None
    clip_model: str = "ViT-B-32"
    videos: tuple[Path, ...] = ()

    def __post_init__(self):
        if self.model not in TRAINERS:
            raise UsageError(f"model: expected one of {', '.join(sorted(TRAINERS))}, "
                             f"got {self.model!r}")
        if self.model in FROM_VIDEOS:
            if not self.videos:
                raise UsageError(f"{self.model}: give --video (one or more recordings of "
                                 "yourself signing); it learns to draw that signer")
            missing = [str(v) for v in self.videos if not Path(v).is_file()]
            if missing:
                raise UsageError(f"--video: no such file: {', '.join(missing)}")
            if self.held_out_languages:
                raise UsageError(f"--held-out-langs: {self.model} learns from videos, not "
                                 "from the lexicon's languages")
        elif self.videos:
            raise UsageError(f"--video: only {', '.join(FROM_VIDEOS)} learns from videos")
        if self.clip_weights is not None and self.model != "cvae":
            raise UsageError("--clip-weights: only the cvae is conditioned through CLIP")


@dataclass(frozen=True)
class EvalOptions:
    """What to evaluate. ``parts``: some of ``EVAL_PARTS``. ``flow``, ``cvae``,
    ``recognizer``, ``segmenter``: checkpoints (None: the shipped ones);
    ``flow_languages``: a flow checkpoint trained without some languages, which adds
    the held-out-language KF2P evaluation. ``max_clips``: only the first N held-out
    KF2P clips (quick checks). ``json_path``: also write the whole report there."""

    lexicon: Path | None = None
    parts: tuple[str, ...] = EVAL_PARTS
    flow: Path | None = None
    flow_languages: Path | None = None
    cvae: Path | None = None
    recognizer: Path | None = None
    segmenter: Path | None = None
    max_clips: int | None = None
    json_path: Path | None = None

    def __post_init__(self):
        unknown = [part for part in self.parts if part not in EVAL_PARTS]
        if unknown or not self.parts:
            raise UsageError(f"parts: expected some of {', '.join(EVAL_PARTS)}, "
                             f"got {list(self.parts)}")


@dataclass(frozen=True)
class EvalReport:
    """``report``: every result, JSON-ready; ``tables``: (title, text) per result."""

    report: dict
    tables: tuple[tuple[str, str], ...]


# ------------------------------------------------------------------------ training
def training_config(options: TrainOptions):
    """The trainer's config for ``options``: its defaults, then ``options.settings``,
    then the short forms (``steps``, ``seed``, ``held_out_languages``). UsageError
    naming the setting for one the config refuses."""
    from engine.learn.config import with_overrides

    module_name, _, config_name = TRAINERS[options.model]
    config_class = getattr(importlib.import_module(module_name), config_name)
    config = with_overrides(config_class(), options.settings)
    loop = {name: value for name, value in (("steps", options.steps), ("seed", options.seed))
            if value is not None}
    try:
        if loop:
            config = dataclasses.replace(config, train=dataclasses.replace(config.train, **loop))
        if options.held_out_languages and hasattr(config, "split"):
            config = dataclasses.replace(config, split=dataclasses.replace(
                config.split, held_out_languages=tuple(options.held_out_languages)))
        elif options.held_out_languages:  # the hand reader renders letters, not clips
            config = dataclasses.replace(config,
                                         held_out_languages=tuple(options.held_out_languages))
    except ValueError as error:
        raise UsageError(str(error)) from None
    return config


def train_model(options: TrainOptions, progress: Progress | None = None,
                cancel: CancelToken | None = None):
    """Train ``options.model`` on the lexicon and write ``options.out``.

    Models in ``FROM_VIDEOS`` learn from ``options.videos`` instead of the lexicon.
    Returns the trainer's ``TrainResult`` (path, steps, per-step losses); the
    checkpoint's manifest records the whole config under ``training``. Raises
    FileNotFoundError for a missing lexicon, UsageError for a bad setting, ``Cancelled`` when cancelled
    (the resume file is kept).
    """
    from engine.data.lexicon import default_lexicon_path

    config = training_config(options)
    if options.model in FROM_VIDEOS:
        module_name, function_name, _ = TRAINERS[options.model]
        trainer = getattr(importlib.import_module(module_name), function_name)
        return trainer([str(v) for v in options.videos], options.out, config,
                       resume=options.resume, progress=progress or no_progress, cancel=cancel)
    lexicon = options.lexicon or default_lexicon_path()
    if not Path(lexicon).is_file():
        raise FileNotFoundError(f"{lexicon}: no lexicon database; run `signstudio-cli lexicon "
                                f"build` first")
    extra = {}
    if options.clip_weights is not None:
        from engine.learn.encoders import ClipEncoder

        extra["encoder"] = ClipEncoder.from_path(options.clip_weights, options.clip_model)
    module_name, function_name, _ = TRAINERS[options.model]
    trainer = getattr(importlib.import_module(module_name), function_name)
    return trainer(str(lexicon), options.out, config, resume=options.resume,
                   progress=progress or no_progress, cancel=cancel, **extra)


# ---------------------------------------------------------------------- evaluation
def _model_path(given: Path | None, name: str) -> Path:
    from engine.assets import asset_path

    return Path(given) if given else asset_path(f"models/{name}.pt")


def _load_given_models(options: EvalOptions) -> None:
    """Load (and so check) each checkpoint the options name before the evaluation's
    data work, so a damaged or hostile file is refused in a second."""
    from engine.generate.flow_backend import FlowKF2P
    from engine.learn.recognizer import load_recognizer
    from engine.learn.segmenter import load_segmenter

    for path in (options.flow, options.flow_languages):
        if path:
            FlowKF2P.from_checkpoint(path)
    if options.recognizer:
        load_recognizer(options.recognizer)
    if options.segmenter:
        load_segmenter(options.segmenter)


def _kf2p(lexicon: Path, options: EvalOptions, progress: Progress, cancel):
    from engine.generate.eval_kf2p import evaluate_kf2p, format_kf2p_table

    for split in ("clips", "languages"):
        checkpoint = options.flow if split == "clips" else options.flow_languages
        if split == "languages" and not checkpoint:
            continue  # needs a model trained without those languages
        result = evaluate_kf2p(str(lexicon), split=split, checkpoint=checkpoint,
                               max_clips=options.max_clips, progress=progress)
        yield f"kf2p_{split}", result, f"KF2P on held-out {split}", format_kf2p_table(result)


def _generation(lexicon: Path, options: EvalOptions, progress: Progress, cancel):
    from engine.generate.flow_backend import FlowKF2P
    from engine.learn.cvae import load_cvae
    from engine.learn.eval_generation import cvae_generator, evaluate_generation, format_generation_table

    flow = FlowKF2P.from_checkpoint(options.flow)

    def flow_generator(label: str, num_frames: int, num_candidates: int, seed: int):
        return list(flow.text_to_pose(label, num_frames, num_candidates=num_candidates,
                                      seed=seed).features)

    generators = {"cvae": cvae_generator(load_cvae(_model_path(options.cvae, "cvae"))),
                  "flow text-to-pose": flow_generator}
    result = evaluate_generation(str(lexicon), generators,
                                 _model_path(options.recognizer, "recognizer"),
                                 progress=progress, cancel=cancel)
    yield ("generation", result, "Text to pose (Acc / FID / Diversity / Multimodality)",
           format_generation_table(result))


def _segmenter(lexicon: Path, options: EvalOptions, progress: Progress, cancel):
    from engine.learn.train_segmenter import evaluate_segmenter

    result = evaluate_segmenter(str(lexicon), _model_path(options.segmenter, "segmenter"),
                                progress=progress, cancel=cancel)
    learned, baseline = result["learned"], result["velocity_baseline"]
    table = (f"  learned {learned['boundary_tol2']['f1']:.3f}   velocity baseline "
             f"{baseline['boundary_tol2']['f1']:.3f}")
    yield ("segmenter", result,
           "Segmenter boundary F1 on held-out sequences (±2 frames at 25 fps)", table)


#: Part -> a generator of (report key, result, table title, table text).
_EVALUATIONS = {"kf2p": _kf2p, "generation": _generation, "segmenter": _segmenter}


def evaluate_models(options: EvalOptions, progress: Progress | None = None,
                    cancel: CancelToken | None = None,
                    on_table: Callable[[str, str], None] | None = None) -> EvalReport:
    """Evaluate ``options.parts`` on the lexicon's held-out clips.

    ``progress`` messages start with the part's name; ``on_table(title, text)`` is
    called as each result is ready, so a caller can show it while the rest runs.
    Raises FileNotFoundError for a missing lexicon, CheckpointError for a checkpoint that
    cannot be used (checked before any data work), ``Cancelled`` when cancelled.
    """
    import json

    from engine.atomic import atomic_output
    from engine.data.lexicon import default_lexicon_path

    lexicon = Path(options.lexicon or default_lexicon_path())
    if not lexicon.is_file():
        raise FileNotFoundError(f"{lexicon}: no lexicon database; run `signstudio-cli lexicon "
                                f"build` first")
    _load_given_models(options)
    report: dict = {"lexicon": str(lexicon)}
    tables = []
    for part in options.parts:
        if cancel is not None and cancel.cancelled:
            raise Cancelled()

        def part_progress(done: int, total: int, message: str = "", part=part) -> None:
            (progress or no_progress)(done, total, f"{part}: {message}")

        for key, result, title, table in _EVALUATIONS[part](lexicon, options, part_progress,
                                                            cancel):
            report[key] = result
            tables.append((title, table))
            if on_table is not None:
                on_table(title, table)
    if options.json_path is not None:
        with atomic_output(options.json_path) as temp:
            Path(temp).write_text(json.dumps(report, indent=2, default=str))
    return EvalReport(report=report, tables=tuple(tables))
