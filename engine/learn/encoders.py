"""Conditioning encoders: texts, glosses and images as fixed-size vectors.

SignAvatar conditions its generator on CLIP's joint image/text space, so one
model can be driven by a label or by a picture. Two encoders share one interface,
``TextConditionEncoder`` (``dim``, ``identity``, ``encode_texts``):

- ``ClipEncoder``: open_clip weights from a local file or folder that the user supplies
  (setting ``clip_weights``; nothing is ever downloaded). Images and texts land in one
  L2-normalised space; the image -> sign CLIP route (``engine.generate.clip_match``)
  uses its ``encode_images``.
- ``GlossEncoder``: needs no weights. A deterministic embedding of ``"lang:GLOSS"``
  strings by hashed character n-grams, so learned models can condition on glosses on a
  machine that has no CLIP weights at all.

This module is the only place that imports open_clip (and with it torchvision); see
``_import_open_clip`` for why that import needs care.
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import pickle
import re
import sys
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from engine.file_cache import FileCache
from engine.motion.errors import ProjectFileError


@runtime_checkable
class TextConditionEncoder(Protocol):
    """What a learned model needs from a text/gloss encoder.

    ``encode_texts(texts)`` -> (N, dim) float32, each row L2-normalised (unit length).
    ``identity``: a string naming the encoder and its weights; a checkpoint stores it so
    a model is never run with an encoder other than the one it was trained with.
    """

    @property
    def dim(self) -> int: ...

    @property
    def identity(self) -> str: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


def condition_text(gloss: str, language: str) -> str:
    """The one text form of a (gloss, sign language) pair: ``"ase:HELLO"``."""
    return f"{language}:{gloss}"


def _check_texts(texts: Sequence[str], who: str) -> list[str]:
    if isinstance(texts, str):
        raise ValueError(f"{who}: expected a list of strings, got one string {texts!r}")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"{who}: text {i}: expected a string, got {type(text).__name__}")
    return texts


# --------------------------------------------------------------------- gloss encoder
_LANGUAGE_PREFIX = re.compile(r"^([a-z][a-z0-9-]{1,15}):(.*)$", re.DOTALL)
_WORD_SPLIT = re.compile(r"[^\w]+|_")


@lru_cache(maxsize=65536)
def _hashed(feature: str, dim: int) -> tuple[int, float]:
    """Feature -> (column, sign). blake2b rather than ``hash()``: Python salts string
    hashes per process, and an embedding must be the same on every run and machine."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, (1.0 if (value >> 63) & 1 else -1.0)


class GlossEncoder:
    """Offline text/gloss encoder: no weights, deterministic, ``dim`` dimensions.

    Features of a text (``"ase:THANK-YOU"`` or plain ``"thank you"``), after Unicode
    NFC and lower-casing: each word whole, and its character n-grams (``ngram_range``)
    with ``<``/``>`` marking the word's start and end, so spellings that share pieces
    (THANK, THANKS) land near each other. They are hashed with a +-1 sign into ``dim``
    columns (feature hashing) and L2-normalised. A leading language code adds a
    language direction weighted ``LANGUAGE_WEIGHT`` against the gloss's unit vector:
    the same gloss in two languages has cosine ~0.8, two unrelated glosses in one
    language ~0.2, so a model conditioned on it can tell both apart.
    """

    LANGUAGE_WEIGHT = 0.5
    _LANGUAGE_FEATURES = 8  # spread the language over several columns, not one

    def __init__(self, dim: int = 256, ngram_range: tuple[int, int] = (1, 3)):
        if not isinstance(dim, int) or dim < 8:
            raise ValueError(f"GlossEncoder.dim: expected an integer >= 8, got {dim!r}")
        low, high = ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"GlossEncoder.ngram_range: expected 1 <= low <= high, "
                             f"got {ngram_range!r}")
        self._dim = dim
        self._ngrams = (int(low), int(high))

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def identity(self) -> str:
        low, high = self._ngrams
        return f"gloss-hash:v1:dim={self._dim}:ngrams={low}-{high}"

    def _features(self, text: str) -> list[str]:
        low, high = self._ngrams
        features = []
        for word in filter(None, _WORD_SPLIT.split(text)):
            features.append("w:" + word)
            marked = f"<{word}>"
            for n in range(low, high + 1):
                features.extend("c:" + marked[i:i + n] for i in range(len(marked) - n + 1))
        return features or ["w:<empty>"]  # an empty gloss still gets a unit vector

    def _vector(self, features: list[str]) -> np.ndarray:
        vector = np.zeros(self._dim, np.float64)
        for feature in features:
            column, sign = _hashed(feature, self._dim)
            vector[column] += sign
        norm = np.linalg.norm(vector)
        if norm == 0:  # every feature cancelled out by collisions: fall back to one
            column, sign = _hashed(features[0] + "#fallback", self._dim)
            vector[column], norm = sign, 1.0
        return vector / norm

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """texts -> (N, dim) float32, unit rows. The same text always gives the same row."""
        texts = _check_texts(texts, "GlossEncoder.encode_texts")
        out = np.zeros((len(texts), self._dim), np.float32)
        for row, text in enumerate(texts):
            text = unicodedata.normalize("NFC", text).strip().lower()
            language = None
            prefixed = _LANGUAGE_PREFIX.match(text)
            if prefixed:
                language, text = prefixed.groups()
            vector = self._vector(self._features(text))
            if language:
                vector = vector + self.LANGUAGE_WEIGHT * self._vector(
                    [f"l:{language}#{k}" for k in range(self._LANGUAGE_FEATURES)])
                vector /= np.linalg.norm(vector)
            out[row] = vector
        return out

    def encode_glosses(self, glosses: Sequence[str], language: str) -> np.ndarray:
        """(N, dim) for ``glosses`` of one sign language (``condition_text`` form)."""
        return self.encode_texts([condition_text(g, language) for g in glosses])


# ----------------------------------------------------------------------- open_clip
class ClipWeightsError(ProjectFileError):
    """CLIP weights missing, unreadable, or not for the requested architecture."""


_open_clip = None
_open_clip_lock = threading.Lock()
# Kept alive for the life of the process: a torch.library.Library removes the schemas
# it defined when it is garbage-collected.
_torchvision_schemas = None


def _torchvision_ops_loadable() -> bool:
    """True when torchvision's compiled ops (``torchvision::nms``...) exist or load."""
    import torch

    if "torchvision" in sys.modules:
        return True  # already imported, so whatever it needed is in place
    try:
        _ = torch.ops.torchvision.nms  # raises when the op is not registered
        return True
    except (AttributeError, RuntimeError):
        pass
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return True  # not installed: let the import itself say so
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            library = Path(folder) / f"_C{suffix}"
            if library.is_file():
                try:
                    torch.ops.load_library(str(library))
                    return True
                except OSError:
                    pass
    return False


def _import_open_clip():
    """Import open_clip once, working around a torchvision that cannot load its ops.

    open_clip imports torchvision. The only torchvision built for torch 2.13 here is a
    CUDA build (0.28.0+cu130) whose compiled ops library does not load with the CPU
    torch; torchvision then still registers fake kernels for ``torchvision::nms`` and
    ``torchvision::qnms`` at import and fails with "operator torchvision::nms does not
    exist". open_clip never calls those
    detection ops, so when (and only when) the compiled library cannot load we define
    the two schemas first; the import then succeeds and nms stays unimplemented. With a
    torchvision whose ops load (a matching CPU or CUDA build) nothing is defined.
    """
    global _open_clip, _torchvision_schemas
    with _open_clip_lock:
        if _open_clip is None:
            if not _torchvision_ops_loadable():
                import torch

                library = torch.library.Library("torchvision", "DEF")
                library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                _torchvision_schemas = library
            import open_clip

            _open_clip = open_clip
    return _open_clip


#: Weight files open_clip writes, best first (as open_clip's own local-dir loader ranks).
_FOLDER_WEIGHT_NAMES = ("open_clip_model.safetensors", "open_clip_pytorch_model.safetensors",
                        "open_clip_pytorch_model.bin", "open_clip_pytorch_model.pth",
                        "model.safetensors", "pytorch_model.bin", "pytorch_model.pth",
                        "model.pth")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
_WHAT_WEIGHTS_ARE = ("an open_clip weights file (.safetensors, .bin, .pt, .pth) or a "
                     "folder holding open_clip_config.json and its weights")


def _folder_weights(folder: Path) -> Path:
    for name in _FOLDER_WEIGHT_NAMES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(p for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES and p.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise ClipWeightsError(folder, "no weights file in the folder; expected one of "
                                       f"{', '.join(_FOLDER_WEIGHT_NAMES[:3])}, ...")
    raise ClipWeightsError(folder, "several weights files and none with an open_clip name ("
                                   f"{', '.join(p.name for p in found)}); keep one")


#: Bounds on the numbers of a folder's open_clip config, far above real CLIP models
#: (ViT-L/14: width 1024, 24 layers, image 224, context 77), so a crafted config cannot
#: make open_clip build a model that exhausts memory before the weights are compared.
_CLIP_SETTING_LIMITS = {"width": 8192, "layers": 96, "heads": 128, "image_size": 1024,
                        "patch_size": 1024, "context_length": 2048, "vocab_size": 1_000_000,
                        "embed_dim": 8192, "mlp_ratio": 16, "head_width": 1024}


def _oversized_clip_setting(config: object, where: str = "model_cfg") -> str | None:
    """The first number of an open_clip config beyond ``_CLIP_SETTING_LIMITS`` (or any
    number over 10 million), as a sentence; None when all are in range."""
    if isinstance(config, dict):
        for key, value in config.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                limit = _CLIP_SETTING_LIMITS.get(key, 10_000_000)
                if not -limit <= value <= limit:
                    return f"{where}.{key} is {value}; expected at most {limit:,}"
            problem = _oversized_clip_setting(value, f"{where}.{key}")
            if problem:
                return problem
    elif isinstance(config, list):
        for index, value in enumerate(config[:1000]):
            problem = _oversized_clip_setting(value, f"{where}[{index}]")
            if problem:
                return problem
    return None


def _refuse_downloading_towers(model_cfg: dict, source: str, where: Path) -> None:
    """open_clip builds Hugging Face text towers and tokenizers by name from the Hub,
    which would download at run time; Sign Studio loads only local files."""
    text_cfg = model_cfg.get("text_cfg") or {}
    for key in ("hf_model_name", "hf_tokenizer_name"):
        if text_cfg.get(key):
            raise ClipWeightsError(where, f"model {source} needs the Hugging Face text "
                                          f"model '{text_cfg[key]}' ({key}), which would be "
                                          "downloaded; use a CLIP architecture with a "
                                          "built-in text tower, such as ViT-B-32")


class _QuietRandomInit(logging.Filter):
    """Drops open_clip's "initialized randomly" warning: we create the model without
    weights on purpose and load the user's file right after."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "No pretrained weights loaded" not in record.getMessage()


def _file_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


#: Loaded encoders by weights-file version: one at a time, as a ViT-B-32 holds ~600 MB
#: in float32.
_loaded: FileCache[ClipEncoder] = FileCache(max_entries=1)


class ClipEncoder:
    """open_clip image and text encoder from local weights; build with ``from_path``.

    ``dim``: the joint embedding size (512 for ViT-B-32). ``model_name``: the
    architecture; ``weights_path``: the file read; ``weights_sha256``: sha256 of what
    was read (the weights, plus the config for a folder), the key of every cache built
    from this encoder's outputs.
    """

    def __init__(self, model, preprocess, tokenizer, *, model_name: str, dim: int,
                 weights_path: Path, weights_sha256: str):
        self._model = model
        self._preprocess = preprocess
        self._tokenizer = tokenizer
        self.model_name = model_name
        self.weights_path = weights_path
        self.weights_sha256 = weights_sha256
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def identity(self) -> str:
        return f"open_clip:{self.model_name}:{self.weights_sha256[:16]}"

    def __repr__(self) -> str:
        return f"ClipEncoder({self.model_name}, {self.weights_path}, dim={self._dim})"

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_path(cls, weights_path: str | Path, model_name: str = "ViT-B-32") -> ClipEncoder:
        """Load open_clip weights from a local file or folder; never downloads.

        ``weights_path``: a state-dict file (.safetensors, .bin, .pt, .pth) for the
        built-in architecture ``model_name``, or a folder holding
        ``open_clip_config.json`` (open_clip's ``{"model_cfg": ...}`` layout) and one
        weights file, whose config then decides the architecture (``model_name`` is
        ignored). Loaded once per (path, modification time): later calls return the
        same encoder (the most recently loaded one is kept). Raises ``ClipWeightsError``
        naming the path when it is missing, unreadable or holds weights of another model.
        """
        path = Path(weights_path).expanduser()
        if not path.exists():
            raise ClipWeightsError(path, f"no such file or folder; expected {_WHAT_WEIGHTS_ARE}")
        path = path.resolve()
        if path.is_dir():
            config = path / "open_clip_config.json"
            if not config.is_file():
                raise ClipWeightsError(path, "folder without open_clip_config.json; expected "
                                             f"{_WHAT_WEIGHTS_ARE}")
            files = [config, _folder_weights(path)]
            model_key = ""
        else:
            files, model_key = [path], model_name
        return _loaded.get_for(files, lambda: cls._load(path, files, model_name),
                               variant=model_key)

    @classmethod
    def _load(cls, path: Path, files: list[Path], model_name: str) -> ClipEncoder:
        open_clip = _import_open_clip()
        if path.is_dir():
            config_path, checkpoint = files
            try:
                config = json.loads(config_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ClipWeightsError(config_path, f"not valid JSON ({error})") from None
            except RecursionError:
                raise ClipWeightsError(config_path, "nested too deeply to be open_clip's "
                                                    "config") from None
            model_cfg = config.get("model_cfg") if isinstance(config, dict) else None
            if not isinstance(model_cfg, dict) or not {"embed_dim", "vision_cfg",
                                                        "text_cfg"} <= set(model_cfg):
                raise ClipWeightsError(config_path, "expected open_clip's layout: an object "
                                                    "with 'model_cfg' holding embed_dim, "
                                                    "vision_cfg and text_cfg")
            problem = _oversized_clip_setting(model_cfg)
            if problem:
                raise ClipWeightsError(config_path, problem)
            # The "local-dir:" schema makes open_clip read the model (and tokenizer)
            # config from this folder; with load_weights=False it reads nothing else.
            name, shown = f"local-dir:{path}", path.name
        else:
            checkpoint = path
            if ":" in model_name:  # "hf-hub:..." would download; "local-dir:" is a folder
                raise ValueError(f"clip_model: expected a built-in open_clip architecture "
                                 f"such as ViT-B-32, got {model_name!r}; for a folder with "
                                 "open_clip_config.json, point clip_weights at the folder")
            model_cfg = open_clip.get_model_config(model_name)
            if model_cfg is None:
                known = [m for m in open_clip.list_models() if m.startswith("ViT-B")]
                raise ValueError(f"clip_model: unknown open_clip architecture {model_name!r}; "
                                 f"expected one of open_clip.list_models(), e.g. {known[:4]}")
            name = shown = model_name
        if checkpoint.suffix in (".npz", ".npy"):
            raise ClipWeightsError(checkpoint, f"big_vision numpy weights are not supported; "
                                               f"expected {_WHAT_WEIGHTS_ARE}")
        _refuse_downloading_towers(model_cfg, shown, checkpoint)
        from open_clip.factory import load_state_dict

        from engine.learn.checkpoint import refused_as_unsafe, torch_archive_problem

        problem = torch_archive_problem(checkpoint)
        if problem:
            raise ClipWeightsError(checkpoint, f"not a weights file Sign Studio loads: {problem}")
        try:
            # Read once on its own so that an unreadable file and a readable file of the
            # wrong model get different messages (load_checkpoint reads it again: the
            # page cache makes that cheap, and reimplementing its key conversions here
            # would drift from open_clip's).
            load_state_dict(str(checkpoint))
        except Exception as error:  # pickle, zip, safetensors and empty-dict errors
            if refused_as_unsafe(error):  # torch's message advises unpickling; never passed on
                raise ClipWeightsError(checkpoint, "not a weights file Sign Studio loads: it "
                                                   "holds Python objects other than tensors, "
                                                   "which could run code") from None
            reason = ("damaged, truncated or another kind of file" if isinstance(
                error, pickle.UnpicklingError) else f"{type(error).__name__}: {error}")
            raise ClipWeightsError(checkpoint, f"not a readable weights file ({reason})") from None
        root = logging.getLogger()
        quiet = _QuietRandomInit()
        root.addFilter(quiet)
        try:
            # pretrained=None and load_weights=False: open_clip resolves no pretrained
            # tag (a tag would download) and loads nothing itself; the
            # pretrained_image/text=False flags keep timm/HF towers from fetching
            # their own base weights.
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=None, load_weights=False, pretrained_image=False,
                pretrained_text=False)
        finally:
            root.removeFilter(quiet)
        try:
            incompatible = open_clip.load_checkpoint(model, str(checkpoint), strict=False)
        except (RuntimeError, AssertionError, KeyError, ValueError) as error:
            # Shapes that differ raise even with strict=False; open_clip's positional-
            # embedding resizer asserts on a text width that differs.
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            mismatch = [line for line in lines if line.startswith("size mismatch")]
            detail = (f"{len(mismatch)} tensors differ, e.g. {mismatch[0]}" if mismatch
                      else (lines[0] if lines else type(error).__name__))
            raise ClipWeightsError(checkpoint, f"weights of another architecture than "
                                               f"{shown} ({detail})") from None
        missing = list(getattr(incompatible, "missing_keys", []))
        unexpected = list(getattr(incompatible, "unexpected_keys", []))
        if missing or unexpected:
            raise ClipWeightsError(checkpoint, f"not open_clip {shown} weights: "
                                               f"{len(missing)} tensors missing "
                                               f"(e.g. {missing[:2]}), {len(unexpected)} "
                                               f"unexpected (e.g. {unexpected[:2]})")
        model.eval()
        tokenizer = open_clip.get_tokenizer(name)
        return cls(model, preprocess, tokenizer, model_name=shown,
                   dim=int(model_cfg["embed_dim"]), weights_path=checkpoint,
                   weights_sha256=_file_digest(files))

    # ----------------------------------------------------------------- encoding
    def encode_images(self, images: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """RGB images, each (H, W, 3) uint8 of any size -> (N, dim) float32 unit rows.

        Each image goes through the model's own preprocessing (resize of the short side,
        centre crop, normalisation), so thumbnails and photos compare alike.
        """
        import torch
        from PIL import Image

        if isinstance(images, np.ndarray) and images.ndim == 3:
            raise ValueError("ClipEncoder.encode_images: expected a list of (H, W, 3) "
                             "images, got a single image array")
        images = list(images)
        for i, image in enumerate(images):
            array = np.asarray(image)
            if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
                raise ValueError(f"ClipEncoder.encode_images: image {i}: expected an "
                                 f"(H, W, 3) uint8 RGB array, got shape {array.shape} "
                                 f"dtype {array.dtype}")
        out = np.zeros((len(images), self._dim), np.float32)
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = torch.stack([self._preprocess(Image.fromarray(np.asarray(image)))
                                     for image in images[start:start + batch_size]])
                features = self._model.encode_image(batch, normalize=True)
                out[start:start + len(batch)] = features.float().numpy()
        return out

    def encode_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """texts -> (N, dim) float32 unit rows (open_clip's tokenizer, shipped in its wheel)."""
        import torch

        texts = _check_texts(texts, "ClipEncoder.encode_texts")
        out = np.zeros((len(texts), self._dim), np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                tokens = self._tokenizer(texts[start:start + batch_size])
                features = self._model.encode_text(tokens, normalize=True)
                out[start:start + len(tokens)] = features.float().numpy()
        return out


def configured_clip_encoder(weights: str | Path | None = None,
                            model_name: str | None = None) -> ClipEncoder | None:
    """The CLIP encoder the user configured (``--clip-weights``, then
    ``$SIGNSTUDIO_CLIP_WEIGHTS``, then the ``clip_weights`` setting), or None when
    none is configured. Raises ``ClipWeightsError`` when the configured path is bad."""
    from engine.settings import resolve_clip_model, resolve_clip_weights

    path = resolve_clip_weights(weights)
    if path is None:
        return None
    return ClipEncoder.from_path(path, resolve_clip_model(model_name))
