"""A checkpoint's model settings are checked before any module is built.

The digests only catch damage (anyone can recompute them), so each hostile manifest
here is saved with valid digests, as an attacker would: what must stop it is the
schema check and the shape check on the meta device.
"""
import time

import pytest
import torch

from engine.generate.flow_backend import FlowKF2P, default_checkpoint_path
from engine.learn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.learn.cvae import load_cvae
from engine.learn.recognizer import load_recognizer
from engine.learn.segmenter import load_segmenter


def shipped_with(tmp_path, name, edit, source=None):
    """The shipped flow checkpoint (or ``source``) with ``edit(manifest)`` applied,
    saved with fresh, valid digests."""
    checkpoint = load_checkpoint(source or default_checkpoint_path())
    manifest = checkpoint.manifest
    edit(manifest)
    return save_checkpoint(tmp_path / name, checkpoint.state_dict, manifest)


def set_model_field(field, value):
    def edit(manifest):
        manifest["config"]["model"][field] = value
    return edit


@pytest.mark.parametrize("field, value, expected", [
    ("width", 30000, r"manifest.config.model.width: Input should be less than or equal to 4096"),
    ("width", -1, r"manifest.config.model.width: Input should be greater than or equal to 1"),
    ("width", "160", r"manifest.config.model.width: Input should be a valid integer"),
    ("layers", 10**9, r"manifest.config.model.layers: Input should be less than or equal to 48"),
    ("heads", 7, r"manifest.config.model: width 128 is not a multiple of heads 7$"),
    ("kernel", 4, r"manifest.config.model.kernel: .*odd kernel size"),
    # An older file's sampling settings among the model's are checked where they are.
    ("method", "os.system", r"manifest.config.model.method: Input should be 'euler', "
                            r"'midpoint' or 'rk4'"),
    ("languages", "ase", r"manifest.config.model.languages: Input should be a valid (array|tuple)"),
])
def test_flow_manifest_settings_outside_the_schema_are_refused(tmp_path, field, value, expected):
    path = shipped_with(tmp_path, "bad.pt", set_model_field(field, value))
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match=expected) as error:
        FlowKF2P.from_checkpoint(path)
    assert str(path) in str(error.value)
    assert time.perf_counter() - started < 5.0


def test_unknown_model_field_is_refused(tmp_path):
    path = shipped_with(tmp_path, "extra.pt", set_model_field("widht", 160))
    with pytest.raises(CheckpointError, match="manifest.config.model.widht: Unexpected"):
        FlowKF2P.from_checkpoint(path)


@pytest.mark.slow
def test_settings_for_a_model_bigger_than_the_weights_are_refused_before_building(tmp_path):
    # In range, but 4096 wide x 48 layers would be ~10 GB of float32 if built for real.
    # Measured in a fresh process: ru_maxrss is a process's lifetime peak.
    import subprocess
    import sys

    def edit(manifest):
        manifest["config"]["model"].update(width=4096, layers=48, heads=64, ff_mult=16)
    path = shipped_with(tmp_path, "big.pt", edit)
    script = ("import resource, sys, time\n"
              "from engine.generate.flow_backend import FlowKF2P\n"
              "from engine.learn.checkpoint import CheckpointError\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "started = time.perf_counter()\n"
              "try:\n"
              f"    FlowKF2P.from_checkpoint({str(path)!r})\n"
              "except CheckpointError as error:\n"
              "    print(error)\n"
              "print(time.perf_counter() - started)\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=300).stdout.splitlines()
    message, seconds, grown_kib = output[-3], float(output[-2]), int(output[-1])
    assert "weights do not fit the model its config describes: the file lacks" in message
    assert seconds < 10.0
    assert grown_kib < 1 << 20  # under 1 GiB more at peak: nothing of the 10 GB was allocated


def test_an_edited_manifest_breaks_the_checksum(tmp_path):
    path = shipped_with(tmp_path, "ok.pt", lambda manifest: None)
    payload = torch.load(path, weights_only=True)
    payload["manifest"] = payload["manifest"].replace('"width": 128', '"width": 129')
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(CheckpointError, match="edited.pt: manifest does not match the recorded "
                                              "sha256"):
        load_checkpoint(tmp_path / "edited.pt")


@pytest.mark.parametrize("loader, asset, field, value, expected", [
    (load_cvae, "cvae.pt", "d_model", 30000, r"manifest.config.d_model: Input should be less"),
    (load_cvae, "cvae.pt", "dropout", 1.5, r"manifest.config.dropout: Input should be less than 1"),
    (load_recognizer, "recognizer.pt", "width", "wide", r"manifest.config.width: Input should be "
                                                        r"a valid integer"),
    (load_recognizer, "recognizer.pt", "classes", [], r"manifest.config.classes: .*at least 1"),
    (load_segmenter, "segmenter.pt", "blocks", 40, r"manifest.config.blocks: Input should be "
                                                   r"less than or equal to 16"),
    (load_segmenter, "segmenter.pt", "width", -1, r"manifest.config.width: Input should be "
                                                  r"greater than or equal to 1"),
])
def test_every_shipped_kind_checks_its_settings(tmp_path, loader, asset, field, value, expected):
    source = default_checkpoint_path().parent / asset

    def edit(manifest):
        manifest["config"][field] = value
    path = shipped_with(tmp_path, asset, edit, source=source)
    with pytest.raises(CheckpointError, match=expected):
        loader(path)


def test_shipped_checkpoints_cover_manifest_and_weights():
    for path in sorted(default_checkpoint_path().parent.glob("*.pt")):
        payload = torch.load(path, weights_only=True)
        assert payload["format_version"] == 2 and len(payload["sha256"]) == 64, path


def test_eval_with_a_hostile_checkpoint_is_one_clear_line(tmp_path, capsys, monkeypatch):
    from engine.cli import main
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    from tests.conftest import tiny_lexicon
    tiny_lexicon(tmp_path / "lexicon.sqlite").close()
    path = shipped_with(tmp_path, "wide.pt", set_model_field("width", 30000))
    assert main(["eval", "--only", "kf2p", "--flow", str(path),
                 "--db", str(tmp_path / "lexicon.sqlite")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("signstudio-cli: error: ") and "manifest.config.model.width" in err[-1]


@pytest.mark.slow
def test_a_compressed_checkpoint_is_refused_before_torch_inflates_it(tmp_path):
    import zipfile
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb/data/0", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(bytes(1 << 24))  # 1 GB of zeros, a megabyte on disk
    assert path.stat().st_size < 4 << 20
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="bomb.pt: not a Sign Studio checkpoint: it has "
                                              "compressed members, which torch never writes"):
        load_checkpoint(path)
    assert time.perf_counter() - started < 1.0


def test_an_oversized_clip_folder_config_is_refused_before_a_model_is_built(tmp_path):
    import json

    from engine.learn.encoders import ClipEncoder, ClipWeightsError
    from tests.engine.test_encoders import TINY_CLIP, make_tiny_clip
    folder = make_tiny_clip(tmp_path / "clip")
    config = json.loads(json.dumps(TINY_CLIP))
    config["vision_cfg"]["width"] = 100_000
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    with pytest.raises(ClipWeightsError, match=r"model_cfg.vision_cfg.width is 100000; "
                                               r"expected at most 8,192"):
        ClipEncoder.from_path(folder)
