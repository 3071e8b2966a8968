"""Conditioning encoders: CLIP from the user's local weights (a tiny CLIP made here, as no
real weights are available offline) and the weight-free gloss encoder."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from engine.learn.encoders import (
    ClipEncoder, ClipWeightsError, GlossEncoder, TextConditionEncoder, _import_open_clip,
    condition_text, configured_clip_encoder,
)

#: shared/FACTS.md's tiny CLIP: 32-d embeddings, 32 px images, 16-token texts.
TINY_CLIP = {"embed_dim": 32,
             "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32,
                            "patch_size": 8},
             "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2,
                          "layers": 2}}
TINY_NAME = "SignStudioTest-Tiny-CLIP"  # registered with open_clip for the file route


def _tiny_state_dict(seed: int, config: dict = TINY_CLIP) -> dict:
    import torch

    open_clip = _import_open_clip()
    torch.manual_seed(seed)
    return open_clip.CLIP(**config).state_dict()


def make_tiny_clip(folder, seed: int = 0, config: dict = TINY_CLIP):
    """A folder in open_clip's local layout (config + random weights); returns it."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    torch.save(_tiny_state_dict(seed, config), folder / "open_clip_pytorch_model.bin")
    return folder


def make_tiny_clip_file(path, seed: int = 0):
    """A bare weights file for the registered ``TINY_NAME`` architecture; returns it."""
    import torch

    config_dir = path.parent / "tiny_config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / f"{TINY_NAME}.json").write_text(json.dumps(TINY_CLIP))
    _import_open_clip().add_model_config(config_dir)
    torch.save(_tiny_state_dict(seed), path)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny")


def _images(count, size=(40, 56)):
    rng = np.random.default_rng(7)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(count)]


def test_clip_encoder_shapes_normalisation_and_determinism(tiny):
    encoder = ClipEncoder.from_path(tiny)
    assert encoder.dim == 32 and isinstance(encoder, TextConditionEncoder)
    images = _images(3)
    vectors = encoder.encode_images(images)
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, encoder.encode_images(images))
    assert not np.allclose(vectors[0], vectors[1])  # different pictures, different vectors
    texts = encoder.encode_texts([condition_text("A", "ase"), "hello", ""])
    assert texts.shape == (3, 32) and np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)
    assert np.array_equal(texts, encoder.encode_texts(["ase:A", "hello", ""]))
    assert encoder.encode_images([]).shape == (0, 32)
    assert len(encoder.weights_sha256) == 64 and encoder.model_name == "tiny"


def test_loaded_once_per_path_and_modification(tmp_path):
    folder = make_tiny_clip(tmp_path / "w", seed=1)
    first = ClipEncoder.from_path(folder)
    assert ClipEncoder.from_path(str(folder)) is first  # cached by path + mtime
    image = _images(1)
    before = first.encode_images(image)
    make_tiny_clip(folder, seed=2)  # the user replaces the weights in place
    os.utime(folder / "open_clip_pytorch_model.bin", ns=(1, 1))  # mtime differs for sure
    second = ClipEncoder.from_path(folder)
    assert second is not first and second.weights_sha256 != first.weights_sha256
    assert not np.allclose(second.encode_images(image), before)


def test_weights_file_with_a_named_architecture(tmp_path, tiny):
    path = make_tiny_clip_file(tmp_path / "tiny.pt", seed=0)
    encoder = ClipEncoder.from_path(path, TINY_NAME)
    same_weights = ClipEncoder.from_path(tiny)  # the folder holds seed 0's weights too
    image = _images(2)
    assert np.allclose(encoder.encode_images(image), same_weights.encode_images(image),
                       atol=1e-6)
    assert encoder.model_name == TINY_NAME


def test_loading_never_touches_the_network(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while loading CLIP: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    encoder = ClipEncoder.from_path(make_tiny_clip(tmp_path / "offline", seed=3))
    assert encoder.encode_texts(["ase:B"]).shape == (1, 32)


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "nope" / "ViT-B-32.pt"
    with pytest.raises(ClipWeightsError, match="no such file or folder") as error:
        ClipEncoder.from_path(missing)
    assert str(missing) in str(error.value)
    with pytest.raises(ClipWeightsError, match="without open_clip_config.json"):
        ClipEncoder.from_path(tmp_path)


def test_corrupt_weights_file(tmp_path, tiny):
    folder = tmp_path / "corrupt"
    make_tiny_clip(folder)
    weights = folder / "open_clip_pytorch_model.bin"
    weights.write_bytes(weights.read_bytes()[:5000])  # a download cut short
    with pytest.raises(ClipWeightsError, match="not a readable weights file") as error:
        ClipEncoder.from_path(folder)
    assert str(weights) in str(error.value)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not torch at all")
    with pytest.raises(ClipWeightsError, match="not a readable weights file"):
        ClipEncoder.from_path(junk, TINY_NAME)


def test_foreign_state_dict_and_other_architecture(tmp_path):
    import torch

    foreign = make_tiny_clip(tmp_path / "foreign")
    torch.save({"encoder.weight": torch.zeros(4, 4)}, foreign / "open_clip_pytorch_model.bin")
    with pytest.raises(ClipWeightsError, match=r"not open_clip .* weights: \d+ tensors missing"):
        ClipEncoder.from_path(foreign)
    # Right format, other architecture: a wider tiny CLIP's weights for TINY_CLIP.
    wider = json.loads(json.dumps(TINY_CLIP))
    wider["vision_cfg"]["width"] = 96
    other = make_tiny_clip(tmp_path / "other", config=TINY_CLIP)
    torch.save(_tiny_state_dict(0, wider), other / "open_clip_pytorch_model.bin")
    with pytest.raises(ClipWeightsError, match="another architecture.*size mismatch"):
        ClipEncoder.from_path(other)


def test_unknown_or_downloading_models_are_refused(tmp_path):
    path = make_tiny_clip_file(tmp_path / "tiny.pt")
    with pytest.raises(ValueError, match="unknown open_clip architecture 'No-Such-CLIP'"):
        ClipEncoder.from_path(path, "No-Such-CLIP")
    with pytest.raises(ValueError, match="built-in open_clip architecture"):
        ClipEncoder.from_path(path, "hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K")
    hf_text = json.loads(json.dumps(TINY_CLIP))
    hf_text["text_cfg"]["hf_model_name"] = "roberta-base"
    folder = make_tiny_clip(tmp_path / "hf")
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": hf_text}))
    with pytest.raises(ClipWeightsError, match="would be downloaded"):
        ClipEncoder.from_path(folder)


def test_bad_inputs_to_encode(tiny):
    encoder = ClipEncoder.from_path(tiny)
    with pytest.raises(ValueError, match=r"image 1: expected an \(H, W, 3\) uint8"):
        encoder.encode_images([_images(1)[0], np.zeros((8, 8), np.uint8)])
    with pytest.raises(ValueError, match="single image array"):
        encoder.encode_images(_images(1)[0])
    with pytest.raises(ValueError, match="list of strings"):
        encoder.encode_texts("ase:A")


def test_configured_encoder_follows_flag_environment_then_settings(tmp_path, monkeypatch,
                                                                    tiny):
    from engine.settings import load_settings, save_settings

    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIGNSTUDIO_CLIP_WEIGHTS", raising=False)
    assert configured_clip_encoder() is None
    save_settings(load_settings().replace(clip_weights=str(tmp_path / "set.pt")))
    with pytest.raises(ClipWeightsError, match="set.pt"):
        configured_clip_encoder()
    monkeypatch.setenv("SIGNSTUDIO_CLIP_WEIGHTS", str(tmp_path / "env.pt"))
    with pytest.raises(ClipWeightsError, match="env.pt"):
        configured_clip_encoder()
    assert configured_clip_encoder(tiny).dim == 32
    from engine.settings import resolve_clip_model

    assert resolve_clip_model() == "ViT-B-32"  # the default
    save_settings(load_settings().replace(clip_model=""))  # cleared: still the default
    assert resolve_clip_model() == "ViT-B-32" and resolve_clip_model("RN50") == "RN50"


def test_gloss_encoder_is_deterministic_normalised_and_informative():
    encoder = GlossEncoder(dim=128)
    assert isinstance(encoder, TextConditionEncoder) and encoder.dim == 128
    texts = ["ase:THANK-YOU", "ase:THANKS", "ase:HOUSE", "gsg:THANK-YOU", "ase:thank-you", ""]
    vectors = encoder.encode_texts(texts)
    assert vectors.shape == (6, 128) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    cosine = vectors @ vectors.T
    assert cosine[0, 4] == pytest.approx(1.0)          # case does not matter
    assert cosine[0, 1] > cosine[0, 2] + 0.3            # shared spelling is near
    assert 0.6 < cosine[0, 3] < 0.95                    # same gloss, other language
    assert np.array_equal(GlossEncoder(dim=128).encode_texts(texts), vectors)
    assert np.array_equal(encoder.encode_glosses(["THANKS"], "ase"), vectors[1:2])
    assert encoder.identity != GlossEncoder(dim=64).identity


def test_gloss_encoder_is_the_same_in_another_process():
    # Python salts str hashes per process; the embedding must not depend on that.
    code = ("from engine.learn.encoders import GlossEncoder;"
            "print(GlossEncoder(dim=16).encode_texts(['ase:HELLO']).tolist())")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    assert np.allclose(json.loads(out), GlossEncoder(dim=16).encode_texts(["ase:HELLO"]))


def test_gloss_encoder_rejects_bad_settings():
    with pytest.raises(ValueError, match="dim"):
        GlossEncoder(dim=4)
    with pytest.raises(ValueError, match="ngram_range"):
        GlossEncoder(ngram_range=(3, 1))
    with pytest.raises(ValueError, match="text 1: expected a string"):
        GlossEncoder().encode_texts(["A", 3])
