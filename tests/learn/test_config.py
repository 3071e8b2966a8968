"""The trainers' one config vocabulary: defaults that reproduce the shipped models, one
meaning of held-out languages, overrides through OmegaConf, and older manifests."""
from dataclasses import asdict, fields, is_dataclass, replace

import pytest

from engine.generate.flow_backend import FlowKF2P, default_checkpoint_path
from engine.learn.checkpoint import load_checkpoint, save_checkpoint
from engine.learn.config import SamplingConfig, SplitConfig, TrainConfig, from_dict, with_overrides
from engine.learn.dataset import load_clips, split_clips, split_records
from engine.learn.train_cvae import CvaeTrainConfig
from engine.learn.train_flow import FlowTrainConfig
from engine.learn.train_recognizer import RecognizerTrainConfig
from engine.learn.train_segmenter import SegmenterTrainConfig, recorded_config
from engine.motion.errors import UsageError
from tests.conftest import tiny_lexicon

MODELS = default_checkpoint_path().parent


def leaves(config, prefix=""):
    """{dotted path: value} of every field of a nested config, tuples as lists."""
    out = {}
    for field in fields(config):
        value = getattr(config, field.name)
        if is_dataclass(value):
            out.update(leaves(value, f"{prefix}{field.name}."))
        else:
            out[prefix + field.name] = list(value) if isinstance(value, tuple) else value
    return out


def test_sampling_defaults_are_the_shipped_flow_models():
    recorded = load_checkpoint(default_checkpoint_path()).config["model"]
    assert asdict(SamplingConfig()) == {name: recorded[name] for name in asdict(SamplingConfig())}
    assert SamplingConfig() == SamplingConfig(steps=4, method="euler", temperature=0.25,
                                              mean_first=False, correction_scale=0.5)
    assert FlowKF2P.from_checkpoint().sampling == SamplingConfig()
    assert FlowTrainConfig().sampling == SamplingConfig()


#: (checkpoint, today's default config, the old flat record's names for today's paths,
#: old names that are not training settings). The flow record's sample_* fields were
#: its settings before the shipped file's sampling defaults were rewritten; the test
#: above compares its sampling with the file's own.
SHIPPED = [
    ("flow_kf2p.pt", FlowTrainConfig(), {"split.held_out_languages": "held_out_languages"},
     {"sample_steps", "sample_temperature", "sample_mean_first"}),
    ("cvae.pt", CvaeTrainConfig(), {"split.held_out_languages": "held_out_langs"},
     {"data_licence"}),
    ("recognizer.pt", RecognizerTrainConfig(), {"split.held_out_languages": "held_out_langs"},
     {"data_licence", "label_space"}),
]


@pytest.mark.parametrize("asset, default, renamed, not_settings", SHIPPED)
def test_trainer_defaults_are_what_the_shipped_models_were_trained_with(asset, default, renamed,
                                                                        not_settings):
    manifest = load_checkpoint(MODELS / asset).manifest
    record = manifest["config"]["training"] if asset == "flow_kf2p.pt" else manifest["training"]
    compared = set()
    for path, value in leaves(default).items():
        old = renamed.get(path, path.rsplit(".", 1)[-1])
        if old in record and old not in not_settings and not path.startswith("sampling."):
            assert record[old] == value, (asset, path)
            compared.add(old)
    assert set(record) - compared == not_settings
    # The network's settings, against the model the file holds.
    network = manifest["config"]["model"] if asset == "flow_kf2p.pt" else manifest["config"]
    learned = {"languages", "text_dim", "text_encoder", "classes", "cond_dim"}
    for name, value in leaves(default.model).items():
        if name not in learned:
            assert network[name] == value, (asset, name)


def test_segmenter_defaults_are_the_shipped_models_read_from_its_older_manifest():
    manifest = load_checkpoint(MODELS / "segmenter.pt").manifest
    assert "training" not in manifest  # written before the one vocabulary
    assert recorded_config(manifest) == SegmenterTrainConfig()


# ------------------------------------------------------------------------------ splits
def test_held_out_languages_are_never_trained_on_and_the_rest_still_split_by_clip(tmp_path):
    with tiny_lexicon(tmp_path / "lex.sqlite", languages=("ase", "gsg", "bfi", "fsl")) as store:
        records = load_clips(store)
    train, held = split_records(records, SplitConfig(held_out_fraction=0.3,
                                                     held_out_languages=("bfi",)))
    assert not any(r.language == "bfi" for r in train)
    others = [r for r in records if r.language != "bfi"]
    hashed = split_clips(others, 0.3)[1]
    assert hashed and {id(r) for r in held} == {id(r) for r in records if r.language == "bfi"} | {
        id(r) for r in hashed}
    assert [r for r in records if r in train] == train  # order kept
    languages_only, _ = split_records(records, SplitConfig(0.0, ("bfi",)))
    assert languages_only == others
    assert split_records(records, SplitConfig(0.3)) == split_clips(records, 0.3)
    with pytest.raises(ValueError, match=r"held-out languages \['xyz'\] have no clips"):
        split_records(records, SplitConfig(0.3, ("xyz",)))
    with pytest.raises(ValueError, match="held_out_fraction"):
        SplitConfig(held_out_fraction=1.0)


def test_every_trainer_has_the_same_shape():
    for config in (FlowTrainConfig(), CvaeTrainConfig(), RecognizerTrainConfig(),
                   SegmenterTrainConfig()):
        assert isinstance(config.train, TrainConfig) and isinstance(config.split, SplitConfig)
        assert is_dataclass(config.model)
        with pytest.raises(AttributeError):
            config.train = TrainConfig()  # frozen


# --------------------------------------------------------------------------- overrides
def test_overrides_change_nested_fields_and_keep_the_rest():
    config = with_overrides(FlowTrainConfig(), ["train.lr=0.0005", "sampling.mean_first=true",
                                                "split.held_out_languages=[bzs,swl]",
                                                "model.width=64", "position_scales_mm=[1,2,3]"])
    assert config.train.lr == 0.0005 and config.train.steps == 5000
    assert config.sampling == replace(SamplingConfig(), mean_first=True)
    assert config.split.held_out_languages == ("bzs", "swl")
    assert config.model.width == 64 and config.position_scales_mm == (1.0, 2.0, 3.0)
    assert with_overrides(FlowTrainConfig(), []) == FlowTrainConfig()
    assert with_overrides(SegmenterTrainConfig(), ["train.warmup=null"]).train.warmup is None


@pytest.mark.parametrize("setting, message", [
    ("nonsense=1", "nonsense=1: there is no field 'nonsense'; expected one of model.*, train.*"),
    ("train.nonsense=1", "train has no field 'nonsense'; expected one of steps, batch_size"),
    ("train.lr=fast", "train.lr=fast: train.lr expects a number"),
    ("train.steps=2.5", "train.steps expects a whole number"),
    ("sampling.method=rk9", "sampling.method expects one of 'euler', 'midpoint', 'rk4'"),
    ("sampling.mean_first=maybe", "sampling.mean_first expects true or false"),
    ("train.steps=0", "train: steps: expected a whole number >= 1, got 0"),
    ("sampling.correction_scale=1.5", "correction_scale: expected a number in [0, 1]"),
    ("model.width=0", "model.width: Input should be greater than or equal to 1"),
    ("model.heads=3", "width 128 is not a multiple of heads 3"),
    ("split.held_out_fraction=1", "held_out_fraction: expected a number in [0, 1)"),
    ("train.lr", "train.lr: expected PATH=VALUE"),
])
def test_a_bad_override_is_refused_in_one_line_naming_it(setting, message):
    with pytest.raises(UsageError) as error:
        with_overrides(FlowTrainConfig(), [setting])
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_recorded_config_reads_back_the_same():
    config = with_overrides(SegmenterTrainConfig(), ["split.held_out_languages=[bfi]",
                                                     "sequence.speed=[0.9,1.1]"])
    assert from_dict(SegmenterTrainConfig, asdict(config)) == config
    for config_type in (FlowTrainConfig, CvaeTrainConfig, RecognizerTrainConfig):
        assert from_dict(config_type, asdict(config_type())) == config_type()


# ------------------------------------------------------------------ older flow manifests
def shipped_flow_with(tmp_path, edit):
    checkpoint = load_checkpoint(default_checkpoint_path())
    edit(checkpoint.manifest)
    return save_checkpoint(tmp_path / "flow.pt", checkpoint.state_dict, checkpoint.manifest)


def test_an_older_flow_manifest_samples_as_it_did(tmp_path):
    def before_the_newer_fields(manifest):
        for name in ("mean_first", "correction_scale"):
            del manifest["config"]["model"][name]
    older = FlowKF2P.from_checkpoint(shipped_flow_with(tmp_path, before_the_newer_fields))
    assert older.sampling == SamplingConfig(steps=4, temperature=0.25, mean_first=False,
                                            correction_scale=1.0)

    def todays_shape(manifest):
        model = manifest["config"]["model"]
        manifest["config"]["sampling"] = {name: model.pop(name) for name in asdict(SamplingConfig())}
    (tmp_path / "new").mkdir()
    current = FlowKF2P.from_checkpoint(shipped_flow_with(tmp_path / "new", todays_shape))
    shipped = FlowKF2P.from_checkpoint()
    assert current.sampling == shipped.sampling and current.model.config == shipped.model.config


def test_a_clip_keeps_its_side_of_the_split_when_it_is_refitted_or_remade():
    """A package clip's source hash changes with the fitter's version and a notation
    sign's with the synthesiser; the split must not, or a model trained before a refit
    is scored on clips it trained on. A package clip is keyed by its file's own hash,
    what the shipped models' split used."""
    from types import SimpleNamespace

    from engine.data.fingerspelling import lexicon_dir, load_index
    from engine.data.lexicon import file_sha256
    from engine.learn.dataset import split_key

    index = load_index()
    path = index.path_of(index.find("ase", "A"))
    source = path.relative_to(lexicon_dir()).as_posix()

    def entry(kind, source_hash, **more):
        return SimpleNamespace(source_kind=kind, source=source, source_hash=source_hash,
                               language="ase", gloss="A", notation="", **more)

    assert {split_key(entry("package", "fit of 2026-12-04")),
            split_key(entry("package", "fit of 2026-12-05"))} == {file_sha256(path)}
    remade = [SimpleNamespace(source_kind="notation", source="DSGS sign 1", source_hash=h,
                              language="sgg", gloss="HAUS", notation="\ue001\ue020")
              for h in ("synthesiser 1", "synthesiser 2")]
    assert split_key(remade[0]) == split_key(remade[1])
    assert split_key(entry("video", "the video's bytes")) == "the video's bytes"
