"""The learned KF2P backend and text-to-pose, from a ``flow-kf2p`` checkpoint.

``FlowKF2P.from_checkpoint(path)`` loads (and caches) the sparse-keyframe flow model
of ``engine.learn.flow``; the object is a ``kf2p.Backend``::

    regenerate(motion, keys, (start, stop), backend=FlowKF2P.from_checkpoint(path),
               num_candidates=3, seed=7)

or ``backend="flow"`` for the shipped checkpoint ``assets/models/flow_kf2p.pt``
(``kf2p.default_backend()`` picks it when that file exists).

What the backend does for a range ``[start, stop)`` of an F-frame motion:

1. runs the smooth baseline, which supplies everything the model does not model (legs,
   pelvis, eyes, translation, expression, face blendshapes) and the keyframes' values;
2. takes the window ``[start - 2, stop + 2)`` (clipped to the motion) in 6D features;
   the frames outside the range are known on every joint (so the result joins the
   motion around it, with matching velocity), each keyframe is known on the joints of
   its channels (per-joint mask);
3. conditions on what is signed, when it is known: ``labels`` (one
   ``"<language>:<gloss>"`` or None per frame of the motion, ``Project.frame_labels()``,
   passed on by ``regenerate``) give each window frame its gloss embedding and
   sign-language token, as in training, where every frame carried the label of its
   clip; a window with no label at all runs label-free (text off); the label helps
   (docs/learned-models.md);
4. samples ``num_candidates`` sequences from the flow (seeded, as the checkpoint's
   ``SamplingConfig`` says, or the one given), writes the modelled joints back into the
   baseline's motion. With ``mean_first`` (off in the shipped model, see
   ``engine.learn.flow.sample``), candidate 0 is the model's conditional-mean estimate
   (one network evaluation, the same for every seed) and candidates 1.. are samples.

``regenerate`` then splices the range in and pins the keys bit-exactly.

The model runs at the motion's own frame rate: it was trained on 25 fps clips
time-stretched by 0.8-1.25, which covers the 24-30 fps motions the studio makes.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.assets import assets_dir
from engine.file_cache import FileCache
from engine.jobs import CancelToken, Progress, no_progress
from engine.generate.kf2p_baselines import checked_labels, smooth_backend
from engine.learn.checkpoint import (
    Checkpoint, CheckpointError, build_checked, checked_config, load_checkpoint, save_checkpoint,
)
from engine.learn.config import SamplingConfig
from engine.learn.dataset import MODEL_FPS
from engine.learn.encoders import GlossEncoder
from engine.learn.features import (
    FEATURE_DIM, NUM_SIGN_JOINTS, apply_features, channel_feature_mask, motion_to_features,
)
from engine.learn.flow import KIND, Conditions, FlowConfig, FlowNet, sample, sample_batch
from engine.motion.errors import MotionError
from engine.motion.motion import Motion
from engine.motion.project import Keyframe

#: Frames of known context taken on each side of the regenerated range.
CONTEXT = 2
#: Transitions drawn per batch by ``FlowKF2P.fill`` (~15 frames each: a few MB).
FILL_BATCH = 128


def default_checkpoint_path() -> Path:
    """Where the shipped model lives: ``<assets>/models/flow_kf2p.pt``."""
    return assets_dir() / "models" / "flow_kf2p.pt"


@dataclass(frozen=True)
class TextToPose:
    """Result of ``text_to_pose``.

    features: (C, F, FEATURE_DIM) float32 6D sign-joint features at ``fps``;
    motions: C Motions of F frames (modelled joints from the features, everything else
    the neutral zero pose); label, fps: what was asked for.
    """

    label: str
    fps: float
    features: np.ndarray
    motions: list[Motion]


#: Loaded checkpoints, one per file version.
_CACHE: FileCache[FlowKF2P] = FileCache()


#: Checkpoints written before ``SamplingConfig`` kept the sampling settings among the
#: model's fields (``config.model.steps`` ...); FlowConfig's defaults of that time stand
#: in for any such a file lacks.
LEGACY_SAMPLING = {"steps": 6, "method": "euler", "temperature": 1.0, "mean_first": False,
                   "correction_scale": 1.0}


def current_config(config: dict) -> tuple[dict, str]:
    """A flow manifest's ``config`` in today's shape, ``{"model": ..., "sampling": ...}``,
    and where its sampling settings were found (for error messages): an older file's
    sampling fields are moved out of ``model``, with ``LEGACY_SAMPLING`` for those it
    lacks, so it samples exactly as it did when it was saved."""
    model = config.get("model")
    if "sampling" in config or not isinstance(model, dict):
        return config, "config.sampling"
    model = dict(model)
    sampling = {name: model.pop(name, default) for name, default in LEGACY_SAMPLING.items()}
    return {**config, "model": model, "sampling": sampling}, "config.model"


def model_config(checkpoint: Checkpoint) -> FlowConfig:
    """The network's settings a flow checkpoint records (``manifest.config.model``),
    checked against FlowConfig's schema."""
    config, _ = current_config(checkpoint.config)
    return checked_config(checkpoint, FlowConfig, config.get("model"), field="config.model")


def sampling_config(checkpoint: Checkpoint) -> SamplingConfig:
    """How a flow checkpoint is sampled by default (``manifest.config.sampling``, or an
    older file's sampling fields of ``config.model``), checked against the schema."""
    config, field = current_config(checkpoint.config)
    return checked_config(checkpoint, SamplingConfig, config.get("sampling"), field=field)


class FlowKF2P:
    """A loaded flow model; call it as a ``kf2p.Backend``.

    ``sampling``: how it is sampled (``SamplingConfig``: ODE steps and solver,
    starting-noise scale, whether KF2P's candidate 0 is the mean estimate, how much of
    the network's correction to the spline in-between KF2P applies), by default the
    checkpoint's own (``from_checkpoint``), else the shipped model's.
    """

    def __init__(self, model: FlowNet, manifest: dict, path: Path | None = None,
                 sampling: SamplingConfig = SamplingConfig()):
        self.model = model.eval()
        self.manifest = manifest
        self.path = path
        self.sampling = sampling
        self._encoder = GlossEncoder(dim=model.config.text_dim)
        if self._encoder.identity != model.config.text_encoder:
            raise CheckpointError(path or "<model>", f"model.text_encoder is "
                                  f"{model.config.text_encoder!r}; this Sign Studio's gloss "
                                  f"encoder is {self._encoder.identity!r}: retrain the model")

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None) -> FlowKF2P:
        """Load a ``flow-kf2p`` checkpoint once (cached by path, size and mtime).

        ``path`` None: the shipped ``default_checkpoint_path()``. Raises
        ``CheckpointError`` naming the file when it is missing, tampered, of another
        kind, or does not fit the model its manifest describes.
        """
        path = Path(path) if path is not None else default_checkpoint_path()
        return _CACHE.get(path, cls._load)

    @classmethod
    def _load(cls, path: Path) -> FlowKF2P:
        checkpoint = load_checkpoint(path, kind=KIND)
        config = model_config(checkpoint)
        sampling = sampling_config(checkpoint)
        model = build_checked(checkpoint, lambda: FlowNet(config))
        return cls(model, checkpoint.manifest, path, sampling)

    # ------------------------------------------------------------------- conditions
    def _label_condition(self, label: str | None, frames: int):
        """One label for all ``frames``: (text (frames, text_dim), language (frames,)),
        or (None, None) for no label."""
        if label is None:
            return None, None
        if not isinstance(label, str) or not label.strip():
            raise MotionError(f"flow: label: expected text such as 'ase:A', got {label!r}")
        return self._labels_condition([label] * frames)

    def _labels_condition(self, labels: Sequence[str]):
        """Per-frame labels (T,) -> (text (T, text_dim) float32, language (T,) int64);
        each distinct label is encoded once."""
        row_of = {label: row for row, label in enumerate(dict.fromkeys(labels))}
        rows = np.array([row_of[label] for label in labels], np.int64)
        table = self._encoder.encode_texts(list(row_of))
        # "ase:A" -> "ase"; a label without a language gets the "unknown language" token.
        tokens = np.array([self.model.config.language_index(
            label.split(":", 1)[0] if ":" in label else None) for label in row_of], np.int64)
        return table[rows], tokens[rows]

    def _window_condition(self, motion: Motion, label: str | None,
                          labels: Sequence[str | None] | None, low: int, high: int):
        """The gloss condition of window frames ``[low, high)``: (text, language) as
        ``_labels_condition`` returns them, or (None, None) to run label-free."""
        if labels is None:
            return self._label_condition(label, high - low)
        if label is not None:
            raise MotionError("flow: pass either label= (one label for every frame) or "
                              "labels= (one per frame), not both")
        return self._checked_window_condition(
            checked_labels(labels, motion.num_frames, "flow"), low, high)

    def _checked_window_condition(self, checked: Sequence[str | None], low: int, high: int):
        """``_window_condition`` of labels already checked (``checked_labels``)."""
        window = _filled_from_following(checked[low:high])
        if window is None:
            return None, None
        return self._labels_condition(window)

    # ------------------------------------------------------------------------- KF2P
    def __call__(self, motion: Motion, keyframes: Sequence[Keyframe], frame_range: tuple[int, int],
                 num_candidates: int = 1, seed: int | None = None, *,
                 labels: Sequence[str | None] | None = None, label: str | None = None,
                 guidance: float = 1.0) -> list[Motion]:
        """``num_candidates`` Motions of ``motion``'s length (the ``kf2p.Backend`` contract).

        ``seed`` None means 0, so an edit regenerates the same way every time; candidates
        within one call differ (with ``mean_first``, candidate 0 is the seed-independent
        mean estimate and the others follow the seed).

        The gloss condition, optional: ``labels``, one ``"ase:A"`` or None per frame of
        ``motion`` (F entries; ``regenerate`` passes ``Project.frame_labels()`` on), of
        which the window ``[start - CONTEXT, stop + CONTEXT)`` is used, a None frame
        taking the label that follows it (see ``_filled_from_following``) and a window
        with no label running label-free; or ``label``, one label for every frame (the
        evaluation's clip label). Not both. ``guidance``: the classifier-free guidance
        weight of the condition.
        """
        start, stop = frame_range
        base = smooth_backend(motion, keyframes, frame_range)[0]
        low, high = max(0, start - CONTEXT), min(motion.num_frames, stop + CONTEXT)
        window = base.slice(low, high)
        values = motion_to_features(window)
        known = np.zeros((high - low, NUM_SIGN_JOINTS), bool)
        known[: start - low] = True
        known[stop - low:] = True
        for key in keyframes:
            if start <= key.frame < stop:
                known[key.frame - low] |= channel_feature_mask(key.channels)[::6]
        text, language = self._window_condition(motion, label, labels, low, high)
        samples = sample(self.model, Conditions(values, known, text, language),
                         num_candidates=num_candidates, seed=0 if seed is None else seed,
                         guidance=guidance, sampling=self.sampling)
        arrays = base.frame_arrays()
        results = []
        for features in samples:
            generated = apply_features(window, features).frame_arrays()
            changes = {}
            for name, array in arrays.items():
                inside = generated[name][start - low:stop - low]
                if not np.array_equal(inside, array[start:stop]):
                    # Only the range: the context frames went through a 6D round trip.
                    changed = array.copy()
                    changed[start:stop] = inside
                    changes[name] = changed
            results.append(base.replace(**changes))
        return results

    def fill(self, arrays: dict[str, np.ndarray], betas: np.ndarray, fps: float,
             frame_ranges: Sequence[tuple[int, int]],
             labels: Sequence[str | None] | None = None, seed: int = 0, *,
             progress: Progress = no_progress, cancel: CancelToken | None = None) -> None:
        """Regenerate each of ``frame_ranges`` (half-open, no keyframes inside, the frames
        around them known) of the motion held in ``arrays`` (``Motion.frame_arrays``
        names, writable, changed in place; ``betas``, ``fps`` its own), all in one batch.

        What assembly needs for an utterance's transitions: the same windows and
        conditions as calling the backend once per range (``CONTEXT`` frames either
        side, the per-frame ``labels``), drawn together (``engine.learn.flow.
        sample_batch``), so 24 transitions cost about what one does. The frames inside
        the ranges are the starting point the model corrects (as the backend's own
        smooth baseline); fields the model does not draw keep them. In place, because
        a book-length utterance is hundreds of MB and every copy counts. ``progress``
        is told after each batch, ``cancel`` checked before each.
        """
        import torch

        total = len(arrays["global_orient"])
        windows = [(max(0, start - CONTEXT), min(total, stop + CONTEXT), start, stop)
                   for start, stop in frame_ranges]
        # Checked once (per window it made 20,000 characters of text quadratic).
        checked = None if labels is None else checked_labels(labels, total, "flow")
        # One thread: the batch is small (an utterance's transitions are ~15 frames
        # each), and a second thread's hand-offs cost more than they save (assembling
        # 40 letters took 245 ms with torch's 2 threads on 2 cores, 194 ms with 1).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            # In batches of FILL_BATCH: one batch for a whole book grew to gigabytes.
            for first in range(0, len(windows), FILL_BATCH):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                self._fill_batch(arrays, betas, fps, windows[first:first + FILL_BATCH],
                                 checked, seed + first)
                done = min(first + FILL_BATCH, len(windows))
                progress(done, len(windows), f"transitions {done}/{len(windows)}")
        finally:
            torch.set_num_threads(threads)

    def _fill_batch(self, arrays, betas, fps, windows, checked, seed) -> None:
        """``fill`` for up to ``FILL_BATCH`` windows ``(low, high, start, stop)``."""
        # The windows side by side: one feature conversion each way for all of them.
        joined = Motion(**{name: np.concatenate([array[low:high] for low, high, _, _ in windows])
                           for name, array in arrays.items()}, betas=betas, fps=fps)
        values = motion_to_features(joined)
        bounds = np.cumsum([0] + [high - low for low, high, _, _ in windows])
        requests = []
        for (low, high, start, stop), first in zip(windows, bounds):
            known = np.ones((high - low, NUM_SIGN_JOINTS), bool)
            known[start - low:stop - low] = False
            text, language = ((None, None) if checked is None
                              else self._checked_window_condition(checked, low, high))
            requests.append(Conditions(values[first:first + high - low], known, text, language))
        samples = sample_batch(self.model, requests, seed=seed, sampling=self.sampling)
        generated = apply_features(joined, np.concatenate(samples)).frame_arrays()
        for (low, _, start, stop), first in zip(windows, bounds):
            for name, array in arrays.items():
                array[start:stop] = generated[name][first + start - low:first + stop - low]

    # ---------------------------------------------------------------- text-to-pose
    def text_to_pose(self, label: str, num_frames: int, num_candidates: int = 1,
                     seed: int | None = None, guidance: float = 2.0) -> TextToPose:
        """Generate a whole sign from its label alone (no keyframes).

        Args:
            label: ``"<language>:<GLOSS>"`` as ``engine.learn.encoders.condition_text``
                writes it, e.g. ``"ase:A"``; a language the model was not trained on
                uses the model's "unknown language" token.
            num_frames: frames to generate (>= 2), at ``MODEL_FPS`` (25 fps).
            num_candidates: how many samples (>= 1), drawn in one batch.
            seed: sampling seed (None: 0); the same seed gives the same samples.
            guidance: classifier-free guidance weight (1 = plain conditional model;
                larger follows the label more closely at some cost in variety).

        Returns ``TextToPose`` with features (C, F, 264) and C Motions at 25 fps.
        """
        if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 2:
            raise MotionError(f"text_to_pose: num_frames: expected an integer >= 2, got {num_frames!r}")
        if isinstance(num_candidates, bool) or not isinstance(num_candidates, int) or num_candidates < 1:
            raise MotionError(f"text_to_pose: num_candidates: expected an integer >= 1, "
                              f"got {num_candidates!r}")
        frames = int(num_frames)
        text, language = self._label_condition(label, frames)
        values = np.zeros((frames, FEATURE_DIM), np.float32)
        known = np.zeros((frames, NUM_SIGN_JOINTS), bool)
        # Always samples, never the mean estimate: text-to-pose is judged on realism
        # and variety (FID, diversity), and a mean sign is neither.
        features = sample(self.model, Conditions(values, known, text, language),
                          num_candidates=num_candidates, seed=0 if seed is None else seed,
                          guidance=guidance,
                          sampling=dataclasses.replace(self.sampling, mean_first=False))
        neutral = Motion.zeros(frames, fps=MODEL_FPS)
        return TextToPose(label=label, fps=MODEL_FPS, features=features,
                          motions=[apply_features(neutral, f) for f in features])


def _filled_from_following(labels: Sequence[str | None]) -> list[str] | None:
    """``labels`` with each None replaced by the next label after it, or after the last
    label by that one; None when there is no label at all.

    Following first, because training labels a transition with the clip it leads into
    (``engine.learn.train_flow.ExampleSampler.draw``).
    """
    following = next((label for label in reversed(labels) if label is not None), None)
    if following is None:
        return None
    filled: list[str] = []
    for label in reversed(labels):
        following = following if label is None else label
        filled.append(following)
    return filled[::-1]


#: The settings that only steer sampling; a trained model's weights do not depend on
#: them, so they can be chosen after training (on validation data).
SAMPLING_FIELDS = tuple(field.name for field in dataclasses.fields(SamplingConfig))


def save_with_sampling_defaults(source: str | Path, destination: str | Path, chosen_on: str,
                                **defaults) -> Path:
    """Copy a ``flow-kf2p`` checkpoint with new sampling defaults and the same weights.

    ``defaults``: values for ``SAMPLING_FIELDS`` (e.g. ``correction_scale=0.5``);
    ``chosen_on``: what they were chosen on, kept in the manifest under
    ``"sampling_defaults"`` with the previous values, so the file says where its
    defaults came from. The copy is written in today's shape (``config.sampling``).
    Raises ``ValueError`` for another field or a value ``SamplingConfig`` refuses,
    ``CheckpointError`` for an unusable ``source``.
    """
    unknown = sorted(set(defaults) - set(SAMPLING_FIELDS))
    if unknown:
        raise ValueError(f"sampling defaults: {unknown} are not sampling fields; expected "
                         f"some of {list(SAMPLING_FIELDS)}")
    checkpoint = load_checkpoint(source, kind=KIND)
    model = model_config(checkpoint)
    sampling = sampling_config(checkpoint)
    previous = {name: getattr(sampling, name) for name in defaults}
    changed = dataclasses.replace(sampling, **defaults)
    manifest = dict(checkpoint.manifest)
    manifest["config"] = {**current_config(manifest["config"])[0], "model": model.to_dict(),
                          "sampling": dataclasses.asdict(changed)}
    history = list(manifest.get("sampling_defaults", []))
    history.append({"set": dict(defaults), "previous": previous, "chosen_on": chosen_on})
    manifest["sampling_defaults"] = history
    return save_checkpoint(destination, checkpoint.state_dict, manifest)


def default_flow() -> FlowKF2P:
    """The shipped model (``CheckpointError`` when it is absent or unusable)."""
    return FlowKF2P.from_checkpoint(default_checkpoint_path())


def flow_backend(motion: Motion, keyframes: Sequence[Keyframe], frame_range: tuple[int, int],
                 num_candidates: int = 1, seed: int | None = None, *,
                 labels: Sequence[str | None] | None = None) -> list[Motion]:
    """``kf2p.BACKENDS["flow"]``: the shipped model as a Backend, conditioned on the
    per-frame ``labels`` when given (``FlowKF2P.__call__``).

    Raises MotionError naming the checkpoint when it is missing or unusable.
    """
    try:
        model = default_flow()
    except CheckpointError as error:
        raise MotionError(f"KF2P backend 'flow': {error}") from None
    return model(motion, keyframes, frame_range, num_candidates, seed, labels=labels)


def text_to_pose(label: str, num_frames: int, num_candidates: int = 1, seed: int | None = None,
                 guidance: float = 2.0, checkpoint: str | Path | None = None) -> TextToPose:
    """Text-to-pose with the shipped (or the given) ``flow-kf2p`` checkpoint.

    See ``FlowKF2P.text_to_pose``: ``label`` like ``"ase:A"``, ``num_frames`` at 25 fps;
    returns features (C, num_frames, 264) float32 and C Motions.
    """
    return FlowKF2P.from_checkpoint(checkpoint).text_to_pose(
        label, num_frames, num_candidates=num_candidates, seed=seed, guidance=guidance)
