"""Transformer CVAE that generates a sign from a label (SignAvatar).

Architecture (SignAvatar's, after ACTOR), on normalised sign6d features (F, 264):

- **Condition**: the label (``"lang:GLOSS"``, ``engine.learn.encoders.condition_text``)
  goes through a ``TextConditionEncoder``: the offline ``GlossEncoder`` by default, or
  ``ClipEncoder`` (CLIP's text tower, as in the paper) when the user gives CLIP weights.
  The encoder's ``dim`` sets the model's input width; the checkpoint manifest records
  the encoder's identity (and, for CLIP, the sha256 of its weights) and ``load_cvae``
  refuses an encoder other than the one the model was trained with, since another
  embedding space would silently produce the wrong signs.
- **Encoder**: a transformer over ``[mu token, logvar token, frame_1..frame_T]``, every
  token biased by a projection of the condition ("word-level text projections as
  input"); the two distribution tokens give ``mu`` and ``log sigma^2`` of the latent.
- **Decoder**: sinusoidal time queries for the requested number of frames, biased by the
  condition, cross-attend to the latent ``z`` and the condition ("a conditional bias that
  integrates categorical information") and emit the frames.
- **Loss**: ``L = L_rec + w_KL(step) * L_KL``, ``L_rec`` the mean squared error over the
  valid frames of the normalised features (the paper's ``1/T sum_t |p_t - p^_t|^2``),
  ``L_KL`` the KL divergence to N(0, I) averaged over the latent dimensions.

**Curriculum masking** (SignAvatar): the mask ratio grows during training as
``g(ep) = min(0.1 * floor(ep / 500), 0.6)`` over ``ep in [0, 5000]``: no masking for the
first tenth of training, then 10 % more of the ENCODER's input frames hidden every
tenth, up to 60 % for the last 40 % of the run. Hidden frames are removed from the
encoder's attention (key padding), but the decoder must still reconstruct every frame,
so the latent has to carry the whole sign from a partial view: the posterior becomes
robust to missing or noisy frames, which is what the paper credits for its better
generation (Table I, Acc 0.890 -> 0.941). Our runs are measured in optimiser steps, not
epochs, so ``ep = 5000 * step / total_steps`` keeps the schedule's shape
(``curriculum_mask_ratio``). At least one frame always stays visible.

**KL annealing**: ``w_KL`` rises linearly from 0 to ``kl_weight`` over the first
``kl_warmup`` share of the steps, so the decoder first learns to use ``z`` before the
prior pulls the posterior in (the usual cure for posterior collapse). The weight is
large on purpose: the lexicon has ONE clip per label, so a weakly regularised latent
memorises each clip and the decoder learns to ignore the label; at 1.0 the latent
collapses. The default 0.3 keeps about 0.08 nats of KL per latent dimension: the label
decides the sign and candidates still differ (the sweep is in docs/learned-models.md).

**Resuming**: the shared loop restores the weights, optimiser and batch/noise generator,
but dropout draws from torch's global generator, which it does not save; a resumed run
with ``dropout > 0`` is therefore statistically equivalent, not bit-identical, to an
uninterrupted one (with ``dropout=0`` it is bit-identical, tested).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
from pydantic import Field
from torch import nn

from engine.learn.checkpoint import CheckpointError, build_checked, checked_config, load_checkpoint
from engine.learn.encoders import GlossEncoder, TextConditionEncoder
from engine.learn.features import FEATURE_DIM
from engine.learn.schema import FORBID_UNKNOWN_FIELDS, Depth, Dropout, Heads, Width, check_divisible

KIND = "cvae"
#: SignAvatar's schedule: g(ep) over ep in [0, CURRICULUM_EPOCHS].
CURRICULUM_EPOCHS = 5000


def curriculum_mask_ratio(step: int, total_steps: int) -> float:
    """SignAvatar's ``g(ep) = min(0.1 * floor(ep / 500), 0.6)`` with ``ep = 5000 * step / total``."""
    epoch = CURRICULUM_EPOCHS * step / max(1, total_steps)
    return min(0.1 * math.floor(epoch / 500), 0.6)


@dataclass(frozen=True)
class CvaeConfig:
    """Network shape; ``cond_dim`` is the conditioning encoder's ``dim``.
    ``max_frames``: the longest sequence seen in training (longer clips are resampled)."""

    __pydantic_config__ = FORBID_UNKNOWN_FIELDS

    cond_dim: Width
    d_model: Width = 128
    layers: Depth = 3
    heads: Heads = 4
    ff: Annotated[int, Field(ge=1, le=16384)] = 256
    latent: Width = 64
    dropout: Dropout = 0.1
    max_frames: Annotated[int, Field(ge=1, le=100_000)] = 64

    def __post_init__(self):
        check_divisible(self.d_model, self.heads, "d_model")

    def to_dict(self) -> dict:
        return asdict(self)


def positional_encoding(length: int, dim: int) -> torch.Tensor:
    """(length, dim) sinusoidal encoding of frame indices (any length)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)
    return table


def encoder_record(encoder: TextConditionEncoder) -> dict:
    """What a manifest stores about the conditioning encoder (see ``check_encoder``)."""
    sha = getattr(encoder, "weights_sha256", None)
    return {"identity": encoder.identity, "dim": int(encoder.dim),
            "type": "clip" if sha else "gloss", "weights_sha256": sha}


class CVAE(nn.Module):
    """The SignAvatar CVAE (module docstring). ``encoder`` embeds labels; it is not a
    submodule (a CLIP tower's weights are the user's, never saved in our checkpoint)."""

    def __init__(self, config: CvaeConfig, encoder: TextConditionEncoder):
        super().__init__()
        if encoder.dim != config.cond_dim:
            raise ValueError(f"encoder dim {encoder.dim} does not match the model's "
                             f"cond_dim {config.cond_dim}")
        self.config = config
        self.encoder = encoder
        self._condition_cache: dict[str, torch.Tensor] = {}
        d = config.d_model
        self.register_buffer("mean", torch.zeros(FEATURE_DIM))
        self.register_buffer("std", torch.ones(FEATURE_DIM))
        self.frame_in = nn.Linear(FEATURE_DIM, d)
        self.cond_encoder = nn.Linear(config.cond_dim, d)
        self.cond_decoder = nn.Linear(config.cond_dim, d)
        self.cond_memory = nn.Linear(config.cond_dim, d)
        self.dist_tokens = nn.Parameter(torch.randn(2, d) * 0.02)
        self.encoder_stack = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, config.heads, config.ff, config.dropout, activation="gelu",
                                       batch_first=True, norm_first=True),
            config.layers, norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.to_mu = nn.Linear(d, config.latent)
        self.to_logvar = nn.Linear(d, config.latent)
        self.latent_in = nn.Linear(config.latent, d)
        self.decoder_stack = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d, config.heads, config.ff, config.dropout, activation="gelu",
                                       batch_first=True, norm_first=True),
            config.layers, norm=nn.LayerNorm(d))
        self.frame_out = nn.Linear(d, FEATURE_DIM)

    def condition(self, labels: Sequence[str]) -> torch.Tensor:
        """(B, cond_dim) encoder embeddings of ``"lang:GLOSS"`` labels (cached per label)."""
        missing = [label for label in dict.fromkeys(labels) if label not in self._condition_cache]
        if missing:
            vectors = np.asarray(self.encoder.encode_texts(missing), dtype=np.float32)
            if vectors.shape != (len(missing), self.config.cond_dim):
                raise ValueError(f"encoder returned shape {vectors.shape}, expected "
                                 f"({len(missing)}, {self.config.cond_dim})")
            for label, vector in zip(missing, torch.from_numpy(vectors)):
                self._condition_cache[label] = vector
        return torch.stack([self._condition_cache[label] for label in labels])

    def normalise(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.std

    def denormalise(self, features: torch.Tensor) -> torch.Tensor:
        return features * self.std + self.mean

    def encode(self, x: torch.Tensor, visible: torch.Tensor, cond: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, 264) normalised, visible (B, T) bool, cond (B, cond_dim) -> mu, logvar (B, latent)."""
        batch, length, _ = x.shape
        bias = self.cond_encoder(cond)[:, None, :]
        frames = self.frame_in(x) + positional_encoding(length, self.config.d_model)
        tokens = torch.cat([self.dist_tokens.expand(batch, -1, -1), frames], dim=1) + bias
        keep = torch.cat([torch.ones(batch, 2, dtype=torch.bool), visible], dim=1)
        out = self.encoder_stack(tokens, src_key_padding_mask=~keep)
        return self.to_mu(out[:, 0]), self.to_logvar(out[:, 1]).clamp(-10.0, 10.0)

    def decode(self, z: torch.Tensor, cond: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """z (B, latent), cond (B, cond_dim), valid (B, T) bool -> (B, T, 264) normalised."""
        length = valid.shape[1]
        queries = positional_encoding(length, self.config.d_model)[None] + self.cond_decoder(cond)[:, None]
        memory = torch.stack([self.latent_in(z), self.cond_memory(cond)], dim=1)
        out = self.decoder_stack(queries, memory, tgt_key_padding_mask=~valid)
        return self.frame_out(out)

    def loss(self, x: torch.Tensor, valid: torch.Tensor, visible: torch.Tensor, cond: torch.Tensor,
             kl_weight: float, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        """Training loss on a normalised padded batch (see the module docstring)."""
        mu, logvar = self.encode(x, visible & valid, cond)
        noise = torch.randn(mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * logvar) * noise
        recon = self.decode(z, cond, valid)
        weights = valid[..., None].to(x.dtype)
        rec = ((recon - x) ** 2 * weights).sum() / (weights.sum() * FEATURE_DIM)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).mean()
        return rec + kl_weight * kl, {"rec": float(rec.detach()), "kl": float(kl.detach())}


def orthonormalise_6d(features: torch.Tensor) -> torch.Tensor:
    """(..., 264) -> the same with every joint's 6D pair made orthonormal (Gram-Schmidt)."""
    shape = features.shape
    pairs = features.reshape(*shape[:-1], FEATURE_DIM // 6, 2, 3)
    a = torch.nn.functional.normalize(pairs[..., 0, :], dim=-1)
    b = pairs[..., 1, :] - (a * pairs[..., 1, :]).sum(-1, keepdim=True) * a
    b = torch.nn.functional.normalize(b, dim=-1)
    return torch.stack([a, b], dim=-2).reshape(shape)


@torch.no_grad()
def sample_cvae(model: CVAE, labels: Sequence[str], num_frames: int, num_candidates: int = 1,
                seed: int = 0) -> np.ndarray:
    """Generate ``num_candidates`` signs of ``num_frames`` frames for each label.

    ``labels``: ``"lang:GLOSS"`` strings (``ClipRecord.label``). Returns
    (len(labels), num_candidates, num_frames, 264) float32 sign6d features at 25 fps,
    each joint's 6D made orthonormal. The same seed gives the same output; z is drawn
    from N(0, I) by a generator of its own, so other torch randomness is untouched.
    """
    if isinstance(labels, str):
        raise ValueError("labels: expected a list of 'lang:GLOSS' strings, got one string")
    labels = list(labels)
    if not labels:
        raise ValueError("labels: expected at least one label")
    if int(num_frames) < 1 or int(num_candidates) < 1:
        raise ValueError(f"num_frames and num_candidates: expected >= 1, got {num_frames}, "
                         f"{num_candidates}")
    was_training = model.training
    model.eval()
    try:
        generator = torch.Generator().manual_seed(int(seed))
        cond = model.condition(labels).repeat_interleave(num_candidates, dim=0)
        z = torch.randn(len(cond), model.config.latent, generator=generator)
        valid = torch.ones(len(cond), int(num_frames), dtype=torch.bool)
        features = orthonormalise_6d(model.denormalise(model.decode(z, cond, valid)))
    finally:
        model.train(was_training)
    return features.reshape(len(labels), num_candidates, int(num_frames), FEATURE_DIM).numpy()


def check_encoder(path: str | Path, manifest: dict, encoder: TextConditionEncoder) -> None:
    """Raise CheckpointError unless ``encoder`` is the one the checkpoint was trained with."""
    recorded = manifest.get("encoder")
    if not isinstance(recorded, dict) or "identity" not in recorded:
        raise CheckpointError(path, "manifest.encoder: missing (which conditioning encoder "
                                    "the model was trained with)")
    actual = encoder_record(encoder)
    if recorded.get("type") == "clip" and recorded.get("weights_sha256") != actual["weights_sha256"]:
        raise CheckpointError(path, f"trained with CLIP weights sha256 "
                                    f"{recorded.get('weights_sha256')}, but the encoder given is "
                                    f"{actual['identity']} (weights sha256 "
                                    f"{actual['weights_sha256']}); use the same CLIP weights")
    if recorded["identity"] != actual["identity"]:
        raise CheckpointError(path, f"trained with the conditioning encoder "
                                    f"{recorded['identity']!r}, but {actual['identity']!r} was "
                                    f"given; the embedding spaces differ")


def load_cvae(path: str | Path, encoder: TextConditionEncoder | None = None) -> CVAE:
    """Read a ``kind="cvae"`` checkpoint (verified, weights_only) with its encoder.

    ``encoder``: the conditioning encoder; None rebuilds the offline GlossEncoder the
    manifest names (a CLIP-conditioned model then needs its ClipEncoder passed in).
    Raises CheckpointError naming the file on a foreign, tampered or mismatched file,
    or an encoder other than the one recorded.
    """
    checkpoint = load_checkpoint(path, kind=KIND)
    config = checked_config(checkpoint, CvaeConfig, checkpoint.config)
    if encoder is None:
        recorded = checkpoint.manifest.get("encoder") or {}
        if recorded.get("type") != "gloss":
            raise CheckpointError(path, f"conditioned on {recorded.get('identity', 'an unknown encoder')}"
                                        f"; pass that encoder (CLIP weights sha256 "
                                        f"{recorded.get('weights_sha256')})")
        encoder = GlossEncoder(dim=config.cond_dim)
    check_encoder(path, checkpoint.manifest, encoder)
    return build_checked(checkpoint, lambda: CVAE(config, encoder)).eval()
