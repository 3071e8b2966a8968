"""Sparse-keyframe conditional flow matching (SignSparK-style): the model and its sampler.

One network serves two uses (SignSparK):

* **KF2P**: given some frames' feature values (keyframes, with a per-joint mask saying
  which joints each keyframe pins, plus the frames just outside the regenerated range,
  pinned on every joint) it generates the frames in between;
* **text-to-pose**: given only a gloss label (``"ase:A"``) it generates a whole sign.

Representation: the 264-dim 6D sign-joint features of ``engine.learn.features``,
normalised per dimension with the training set's mean / std (kept in the model's
buffers, so a checkpoint carries its own normalisation).

Flow: the linear (rectified-flow) path ``x_t = (1 - t) z + t x``, ``z ~ N(0, I)``,
``t`` in [0, 1], whose velocity is ``x - z``. The network predicts the CLEAN sequence
``x`` (SignSparK's "reconstruction" objective) rather than the velocity; the velocity
the ODE solver needs is ``(x_hat - x_t) / (1 - t)``. Why x-prediction: the loss is on
poses, so every step's estimate is a usable pose sequence; the last Euler step lands
exactly on the prediction (few steps suffice, SignSparK reports < 10), and a known
keyframe entry can be imposed on ``x_hat`` at every step, which steers the whole path
through it.

Residual on a smooth in-between: every KF2P input also carries ``baseline``, a C2
cubic spline through the known entries (``spline_inbetween``), and the network outputs
a correction added to it. At initialisation the model therefore already equals the
smooth baseline, and training only has to learn how real signing departs from a
spline (handshapes forming early and holding, overshoot, ...). Where nothing is known
(text-to-pose) the baseline is the dataset mean (0 after normalisation).

Conditioning: per frame, the noisy sample, the known values, the per-joint known mask
and the baseline go through one linear layer; the flow time, the gloss embedding
(``GlossEncoder`` of ``"<lang>:<GLOSS>"``) and a learned sign-language token are added
to every frame token (per frame, so a training sequence may concatenate several signs).
Classifier-free guidance: training drops the text (and language) condition, and
sometimes every keyframe, so the same weights give ``x_hat(text)`` and ``x_hat(no
text)``; sampling mixes them as ``uncond + w (cond - uncond)``.

Shapes: B batch, T frames, D = FEATURE_DIM (264), J = NUM_SIGN_JOINTS (44).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from scipy.interpolate import CubicSpline
from torch import nn

from engine.learn.config import SamplingConfig
from engine.learn.features import FEATURE_DIM, NUM_SIGN_JOINTS
from engine.learn.schema import (
    FORBID_UNKNOWN_FIELDS, Depth, Heads, Kernel, Name, Names, Width, check_divisible,
)

KIND = "flow-kf2p"

#: Per-dimension std floor used for normalisation. A 6D entry lives in [-1, 1]; a
#: dimension that barely moves in the training data (std ~1e-3) would otherwise turn a
#: user's unusual keyframe into an input of several hundred, far off the training range.
STD_FLOOR = 0.05


@dataclass(frozen=True)
class FlowConfig:
    """The network's settings; saved in the checkpoint manifest (``config.model``).

    ``languages``: the sign languages that get a learned token (index i + 1); any other
    language (or a dropped condition) uses token 0. How the network is sampled is not
    here: ``engine.learn.config.SamplingConfig`` (``config.sampling``).
    """

    __pydantic_config__ = FORBID_UNKNOWN_FIELDS

    width: Width = 160
    layers: Depth = 4
    heads: Heads = 4
    ff_mult: Annotated[int, Field(ge=1, le=16)] = 2
    text_dim: Width = 256
    text_encoder: Name = "gloss-hash:v1:dim=256:ngrams=1-3"
    languages: Names = ()
    kernel: Kernel = 5
    smoothing: Annotated[float, Field(ge=0.0, le=50.0)] = 1.0

    def __post_init__(self):
        check_divisible(self.width, self.heads, "width")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["languages"] = list(self.languages)
        return data

    def language_index(self, language: str | None) -> int:
        """Token index of ``language`` (0: unknown or none)."""
        if language is None or language not in self.languages:
            return 0
        return self.languages.index(language) + 1


def _sinusoid(values: torch.Tensor, dim: int) -> torch.Tensor:
    """(...,) float -> (..., dim) sin/cos features over geometric frequencies."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = values.float()[..., None] * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class FlowNet(nn.Module):
    """Transformer over frames predicting the clean normalised sequence.

    ``forward(x_t, t, known, mask, baseline, text, language, text_on, padding, offset)``:
    x_t, known, baseline (B, T, D) normalised; mask (B, T, J) float 0/1 (which joints are
    known at each frame); t (B,) in [0, 1]; text (B, T, text_dim) per-frame gloss
    embeddings; language (B, T) long token indices; text_on (B,) float 0/1 (0 drops
    the text and language condition); padding (B, T) bool, True on padded frames;
    offset (B,) long added to the frame positions. Returns x_hat (B, T, D).
    """

    def __init__(self, config: FlowConfig):
        super().__init__()
        self.config = config
        width = config.width
        self.register_buffer("mean", torch.zeros(FEATURE_DIM))
        self.register_buffer("std", torch.ones(FEATURE_DIM))
        self.frame_in = nn.Linear(3 * FEATURE_DIM + NUM_SIGN_JOINTS + 1, width)
        self.time_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.text_in = nn.Linear(config.text_dim, width)
        self.null_text = nn.Parameter(torch.zeros(width))
        self.language = nn.Embedding(len(config.languages) + 1, width)
        layer = nn.TransformerEncoderLayer(width, config.heads, config.ff_mult * width,
                                           dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        # A local temporal mixer before attention: the per-frame noise of x_t is
        # independent across frames, and averaging over neighbours is the cheapest way
        # to see through it (without it the clean estimates came out jagged).
        self.local = nn.Conv1d(width, width, config.kernel, padding=config.kernel // 2)
        # Fixed Gaussian low-pass (sigma = config.smoothing frames) on the correction:
        # real handshape changes take >= 2-3 frames at 25 fps, frame-to-frame jitter does not.
        radius = max(1, int(math.ceil(3 * config.smoothing))) if config.smoothing > 0 else 0
        taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
        kernel = (torch.exp(-0.5 * (taps / config.smoothing) ** 2) if config.smoothing > 0
                  else torch.ones(1))
        self.register_buffer("smooth_kernel", (kernel / kernel.sum())[None, None, :], persistent=False)
        self.out_norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, FEATURE_DIM)
        # Zero output: an untrained model returns the baseline (see the module docstring).
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def set_statistics(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(np.maximum(std, STD_FLOOR), dtype=torch.float32))

    def normalise(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.std

    def denormalise(self, values: torch.Tensor) -> torch.Tensor:
        return values * self.std + self.mean

    def forward(self, x_t, t, known, mask, baseline, text, language, text_on, padding=None,
                offset=None):
        conditions = self.encode_conditions(known, mask, baseline, text, language, text_on,
                                            offset)
        return self.denoise(x_t, t, conditions, baseline, padding)

    def encode_conditions(self, known, mask, baseline, text, language, text_on, offset=None):
        """(B, T, width): the part of the frame tokens that does not depend on x_t or t.

        Computed once per sampling call (the ODE steps only change x_t and t), which
        saves a third of the input projection per step.
        """
        batch, frames, _ = known.shape
        width = self.config.width
        any_known = mask.amax(dim=-1, keepdim=True)
        weight = self.frame_in.weight[:, FEATURE_DIM:]
        tokens = nn.functional.linear(torch.cat([known, baseline, mask, any_known], dim=-1),
                                      weight, self.frame_in.bias)
        positions = torch.arange(frames)[None, :].expand(batch, frames)
        if offset is not None:
            positions = positions + offset[:, None]
        tokens = tokens + _sinusoid(positions, width)
        on = text_on.float()[:, None, None]
        text_tokens = self.text_in(text) + self.language(language)
        return tokens + on * text_tokens + (1.0 - on) * self.null_text

    def denoise(self, x_t, t, conditions, baseline, padding=None):
        """x_hat (B, T, D) from x_t (B, T, D), t (B,) and ``encode_conditions``' tokens."""
        batch, frames, _ = x_t.shape
        width = self.config.width
        tokens = conditions + nn.functional.linear(x_t, self.frame_in.weight[:, :FEATURE_DIM])
        tokens = tokens + self.time_mlp(_sinusoid(t * 1000.0, width))[:, None, :]
        valid = (torch.ones(batch, frames, 1) if padding is None
                 else (~padding).float()[..., None])
        tokens = tokens * valid
        tokens = tokens + self.local(tokens.transpose(1, 2)).transpose(1, 2)
        hidden = self.encoder(tokens, src_key_padding_mask=padding)
        correction = self.out(self.out_norm(hidden)) * valid
        return baseline + self._low_pass(correction, valid)

    def _low_pass(self, values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, T, D) smoothed along T by the Gaussian kernel, normalised by the valid
        frames under it (so padding and the sequence ends do not pull values to 0)."""
        kernel = self.smooth_kernel
        if kernel.shape[-1] == 1:
            return values
        batch, frames, dim = values.shape
        pad = kernel.shape[-1] // 2
        flat = values.permute(0, 2, 1).reshape(batch * dim, 1, frames)
        summed = nn.functional.conv1d(flat, kernel, padding=pad).reshape(batch, dim, frames)
        weight = nn.functional.conv1d(valid.permute(0, 2, 1), kernel, padding=pad)
        return (summed / weight.clamp_min(1e-6)).permute(0, 2, 1) * valid


# --------------------------------------------------------------------- the in-between
def spline_inbetween(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Cubic-spline in-between of the known entries, per joint, in feature space.

    values: (T, D) features (only the known entries are read); known: (T, J) bool.
    Returns (T, D) float32: each joint's 6 entries follow a natural C2 cubic spline
    through the frames where that joint is known (several consecutive known frames at
    a border fix the velocity there), held constant before the first / after the last
    known frame, copied from a single known frame, and NaN where the joint is never
    known (the caller decides what unknown means). Joints with identical known-frame
    patterns share one spline solve, so a typical call is 1-4 solves.
    """
    frames = values.shape[0]
    out = np.full((frames, FEATURE_DIM), np.nan, np.float32)
    patterns, inverse = np.unique(known.T, axis=0, return_inverse=True)
    grid = np.arange(frames, dtype=np.float64)
    for index, pattern in enumerate(patterns):
        times = np.flatnonzero(pattern)
        if len(times) == 0:
            continue
        joints = np.flatnonzero(inverse.reshape(-1) == index)
        columns = (joints[:, None] * 6 + np.arange(6)).reshape(-1)
        anchors = values[np.ix_(times, columns)].astype(np.float64)
        if len(times) == 1:
            out[:, columns] = anchors[0]
            continue
        spline = CubicSpline(times.astype(np.float64), anchors, axis=0, bc_type="natural")
        out[:, columns] = spline(np.clip(grid, times[0], times[-1]))
    return out


# ---------------------------------------------------------------------------- sampling
@dataclass
class Conditions:
    """One KF2P / text-to-pose request in raw (not normalised) features.

    values (T, D): known entries (others ignored); known (T, J) bool; text (T, text_dim)
    per-frame gloss embedding or None for no text; language (T,) long token indices.
    """

    values: np.ndarray
    known: np.ndarray
    text: np.ndarray | None = None
    language: np.ndarray | None = None


def prepare(model: FlowNet, conditions: Conditions) -> dict[str, torch.Tensor]:
    """Normalised tensors for one request, batch of 1 (see ``FlowNet.forward``)."""
    frames = conditions.values.shape[0]
    known = np.asarray(conditions.known, bool)
    base = spline_inbetween(conditions.values, known)
    with torch.no_grad():
        values = model.normalise(torch.as_tensor(np.asarray(conditions.values, np.float32)))
        baseline = model.normalise(torch.as_tensor(base))
        baseline = torch.nan_to_num(baseline, nan=0.0)  # never known: the dataset mean
        mask_joint = torch.as_tensor(known, dtype=torch.float32)
        mask = mask_joint.repeat_interleave(6, dim=-1)
        known_values = values * mask
    text_dim = model.config.text_dim
    text = (np.zeros((frames, text_dim), np.float32) if conditions.text is None
            else np.asarray(conditions.text, np.float32))
    language = (np.zeros(frames, np.int64) if conditions.language is None
                else np.asarray(conditions.language, np.int64))
    return {
        "known": known_values[None], "mask": mask_joint[None], "entry_mask": mask[None],
        "baseline": baseline[None], "text": torch.as_tensor(text)[None],
        "language": torch.as_tensor(language)[None],
        "text_on": torch.tensor([0.0 if conditions.text is None else 1.0]),
    }


@torch.no_grad()
def sample(model: FlowNet, conditions: Conditions, num_candidates: int = 1,
           seed: int | None = None, guidance: float = 1.0,
           sampling: SamplingConfig = SamplingConfig()) -> np.ndarray:
    """Draw ``num_candidates`` sequences; returns (C, T, D) float32 raw features.

    Integrates the flow ODE from t=0 (noise) to t=1 with torchdiffeq's fixed-grid
    solver ``sampling.method`` over ``sampling.steps`` steps (``SamplingConfig``; a
    loaded checkpoint's own is ``FlowKF2P.sampling``). At every evaluation the known
    entries of the clean estimate are replaced by their values, so the path ends on
    them. ``guidance`` w != 1 with text present: classifier-free guidance,
    ``x_hat = x_uncond + w (x_cond - x_uncond)`` (doubles the network evaluations).
    The same ``seed`` gives the same candidates; ``None`` draws a fresh seed.
    ``sampling.temperature`` scales the starting noise (0 gives the deterministic flow
    from the origin, closer to the conditional mean, less varied).

    ``sampling.mean_first``: candidate 0 is instead the network's clean estimate at
    t = 0 from x_t = 0, one evaluation. At t = 0 the input holds nothing about the
    answer, so a model trained with a squared loss (and on exactly that input,
    ``FlowTrainConfig.p_mean``) returns the conditional MEAN there: the least squared
    error frame by frame, the same for every seed. Candidates 1.. are flow samples as
    above (they differ from it and from each other, and follow the seed). Off in the
    shipped model: DTW-JPE forgives timing, and a mean over uncertain timings is a
    blurred motion (docs/learned-models.md).

    ``sampling.correction_scale`` shrinks every clean estimate toward the spline
    in-between, ``baseline + s (x_hat - baseline)``: 1 is the network as trained, 0 the
    spline (``spline_inbetween``) through the keyframes. Why: the lexicon holds one
    signer per sign language, and on signers it never saw the network corrects the
    spline as confidently as on the ones it learned, toward their habits; part of the
    correction carries over (handshapes forming ahead of the spline) and part does not.
    Shrinking an over-confident estimate toward a simple one is the classic remedy
    (James-Stein); the scale was chosen on validation signers (docs/learned-models.md).
    Only where a baseline exists: a joint never known (every joint in text-to-pose)
    always runs at 1.
    """
    from torchdiffeq import odeint

    steps, method, scale = sampling.steps, sampling.method, float(sampling.correction_scale)
    model.eval()
    inputs = prepare(model, conditions)
    # The scale per feature entry: only a joint known somewhere in the window has a
    # spline to shrink toward; a joint never known (every joint in text-to-pose, the
    # body under hand-only keys over a whole motion) has the dataset mean as its
    # "baseline", and shrinking toward the mean pose is not what the scale means.
    splined = inputs["mask"].amax(dim=1).repeat_interleave(6, dim=-1)[:, None, :]  # (1, 1, D)
    shrink = None if scale == 1.0 else torch.where(splined > 0, scale, 1.0)
    frames = conditions.values.shape[0]
    count = int(num_candidates)
    generator = torch.Generator().manual_seed(
        int(seed) if seed is not None else int(np.random.SeedSequence().entropy % 2 ** 63))
    noise = float(sampling.temperature) * torch.randn((count, frames, FEATURE_DIM), generator=generator)
    guided = guidance != 1.0 and conditions.text is not None

    # The conditions are the same for every candidate: encode them once (two rows,
    # with and without text, under guidance) and broadcast over the candidates.
    rows = 2 if guided else 1
    text_on = torch.tensor([1.0, 0.0]) if guided else inputs["text_on"]

    def one(tensor):
        return tensor.expand(rows, *tensor.shape[1:])

    encoded = model.encode_conditions(one(inputs["known"]), one(inputs["mask"]),
                                      one(inputs["baseline"]), one(inputs["text"]),
                                      one(inputs["language"]), text_on)
    known, entry_mask = inputs["known"], inputs["entry_mask"]

    def clean_estimate(x, t):
        n = x.shape[0]
        xx = torch.cat([x, x]) if guided else x
        cond = encoded.repeat_interleave(n, dim=0)
        baseline = inputs["baseline"].expand(rows * n, -1, -1)
        x_hat = model.denoise(xx, torch.full((rows * n,), float(t)), cond, baseline)
        if guided:
            cond_hat, uncond_hat = x_hat[:n], x_hat[n:]
            x_hat = uncond_hat + guidance * (cond_hat - uncond_hat)
        if shrink is not None:
            spline = inputs["baseline"]
            x_hat = spline + shrink * (x_hat - spline)
        return x_hat * (1.0 - entry_mask) + known * entry_mask

    def velocity(t, x):
        # Solvers never evaluate at t = 1 on a fixed grid except rk4's last stage; the
        # floor keeps that finite (and it then points exactly at the estimate).
        return (clean_estimate(x, t) - x) / max(1.0 - float(t), 1.0 / (4 * steps))

    results = []
    if sampling.mean_first:
        results.append(clean_estimate(torch.zeros(1, frames, FEATURE_DIM), 0.0))
    sampled = count - len(results)
    if sampled:
        grid = torch.linspace(0.0, 1.0, steps + 1)
        # noise[1:] under mean_first: candidate k keeps its noise draw whatever else is asked.
        results.append(odeint(velocity, noise[count - sampled:], grid, method=method)[-1])
    result = model.denormalise(torch.cat(results))
    return result.numpy().astype(np.float32)


@torch.no_grad()
def sample_batch(model: FlowNet, requests: list[Conditions], seed: int = 0,
                 sampling: SamplingConfig = SamplingConfig()) -> list[np.ndarray]:
    """One candidate for each of several requests, drawn in one batch: a list of
    (T_i, D) float32 raw features, the i-th for ``requests[i]``.

    The same flow as ``sample`` (no guidance, no mean-first estimate): the requests are
    padded to the longest and the network masks the padding, so an utterance's many
    short transitions cost one network evaluation per ODE step instead of one each.
    """
    from torchdiffeq import odeint

    if not requests:
        return []
    model.eval()
    prepared = [prepare(model, request) for request in requests]
    lengths = [request.values.shape[0] for request in requests]
    longest = max(lengths)

    def padded(name: str) -> torch.Tensor:
        rows = []
        for inputs in prepared:
            tensor = inputs[name][0]
            missing = longest - tensor.shape[0]
            rows.append(torch.cat([tensor, tensor.new_zeros((missing,) + tensor.shape[1:])]))
        return torch.stack(rows)

    known, mask, entry_mask = padded("known"), padded("mask"), padded("entry_mask")
    baseline, text, language = padded("baseline"), padded("text"), padded("language")
    text_on = torch.cat([inputs["text_on"] for inputs in prepared])
    padding = torch.arange(longest)[None, :] >= torch.tensor(lengths)[:, None]
    scale = float(sampling.correction_scale)
    splined = mask.amax(dim=1).repeat_interleave(6, dim=-1)[:, None, :]
    shrink = None if scale == 1.0 else torch.where(splined > 0, scale, 1.0)
    encoded = model.encode_conditions(known, mask, baseline, text, language, text_on)
    generator = torch.Generator().manual_seed(int(seed))
    steps = sampling.steps
    noise = float(sampling.temperature) * torch.randn(
        (len(requests), longest, FEATURE_DIM), generator=generator)

    def velocity(t, x):
        x_hat = model.denoise(x, torch.full((len(requests),), float(t)), encoded, baseline,
                              padding)
        if shrink is not None:
            x_hat = baseline + shrink * (x_hat - baseline)
        x_hat = x_hat * (1.0 - entry_mask) + known * entry_mask
        return (x_hat - x) / max(1.0 - float(t), 1.0 / (4 * steps))

    grid = torch.linspace(0.0, 1.0, steps + 1)
    result = model.denormalise(odeint(velocity, noise, grid, method=sampling.method)[-1])
    return [result[i, :length].numpy().astype(np.float32) for i, length in enumerate(lengths)]
