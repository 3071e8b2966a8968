"""The fingerspelling lexicon index, read from the installed spoken-to-signed package."""
from pathlib import Path

import pytest

pytest.importorskip("spoken_to_signed")

from engine.data.fingerspelling import FingerspellingEntry, lexicon_dir, load_index, parse_index
from engine.data.pose_reader import KeypointFileError

# From FACTS.md: 600 clips, 19 sign languages.
EXPECTED_COUNTS = {
    "ase": 26, "asq": 31, "bzs": 27, "cse": 34, "csq": 34, "eso": 32, "gsg": 30, "gss": 24,
    "ise": 40, "jos": 38, "lls": 32, "mfs": 29, "psr": 26, "sgg": 32, "ssp": 30, "svk": 44,
    "swl": 29, "tsm": 29, "ukl": 33,
}
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index():
    return load_index()


def test_lexicon_is_found_in_the_installed_package_not_the_repo():
    root = lexicon_dir()
    assert root.name == "fingerspelling_lexicon" and (root / "data.csv").is_file()
    assert REPO_ROOT not in root.parents


def test_index_has_600_clips_in_19_languages(index):
    assert len(index) == 600
    assert index.languages() == sorted(EXPECTED_COUNTS)
    assert index.counts() == EXPECTED_COUNTS


def test_entries_are_typed_and_every_clip_exists(index):
    for entry in index:
        assert isinstance(entry.start_ms, int) and isinstance(entry.end_ms, int)
        assert entry.end_ms >= entry.start_ms
        assert entry.path.startswith(entry.signed_language + "/") and entry.path.endswith(".pose")
        assert index.path_of(entry).is_file()
    first = index.entries[0]
    assert first == FingerspellingEntry(
        path=first.path, spoken_language="en", signed_language="ase",
        start_ms=0, end_ms=2720, words="A", glosses="A", priority=0,
    )


def test_glosses_include_digraphs(index):
    assert index.find("sgg", "SCH").glosses == "SCH"
    assert index.find("ssp", "ll").glosses == "LL"
    # sgg's "Ä" is stored decomposed in the package; entries are NFC so a typed "Ä" works.
    assert index.find("sgg", "\u00c4").glosses == "\u00c4"
    assert len({e.glosses for e in index if len(e.glosses) > 1}) > 10


def test_find_and_read_a_clip(index):
    entry = index.find("ase", "a")
    assert entry.words == "A"
    seq = index.read(entry)
    assert seq.fps == 25.0 and seq.metadata.gloss == "A" and seq.metadata.sign_language == "ase"
    assert seq.metadata.source == str(index.path_of(entry))
    with pytest.raises(KeyError, match="no fingerspelling clip"):
        index.find("ase", "ZZZ")


def test_aliases_add_fsl_rows_reusing_ase_clips(index):
    with_aliases = load_index(include_aliases=True)
    assert len(with_aliases) == 626
    fsl = with_aliases.for_language("fsl")
    assert len(fsl) == 26 and all(e.path.startswith("ase/") for e in fsl)
    assert with_aliases.entries[:600] == index.entries


def test_bad_index_files_name_the_problem(tmp_path):
    missing_column = tmp_path / "data.csv"
    missing_column.write_text("path,spoken_language,signed_language,start,end,words\nx.pose,en,ase,0,1,A\n")
    with pytest.raises(KeypointFileError, match="lacks column.*glosses") as err:
        parse_index(missing_column)
    assert err.value.path == missing_column
    bad_int = tmp_path / "bad.csv"
    bad_int.write_text(
        "path,spoken_language,signed_language,start,end,words,glosses\nx.pose,en,ase,0,soon,A,A\n"
    )
    with pytest.raises(KeypointFileError, match="line 2: column 'end' is not an integer"):
        parse_index(bad_int)
