"""``Project.frame_labels``: what is signed at each frame, labelled as the flow model
was trained (a transition carries the label of the sign it leads into)."""
import pytest

from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.assemble import assemble
from engine.generate.timing import Timing
from engine.generate.text import text_to_tokens
from engine.learn.dataset import load_clips
from engine.learn.encoders import condition_text
from engine.motion import Motion, Project, Segment, SegmentKind
from tests.conftest import letter_clip


def labels_of(frames: int, *segments: Segment) -> tuple:
    return Project(motion=Motion.zeros(frames), segments=segments).frame_labels()


def test_segments_label_their_frames_and_gaps_take_the_next_sign():
    labels = labels_of(12, Segment("A", "ase", 2, 5),
                       Segment("B", "ase", 7, 9, kind=SegmentKind.FINGERSPELLED))
    assert len(labels) == 12
    assert labels[:2] == ("ase:A",) * 2        # before the first sign: the sign to come
    assert labels[2:5] == ("ase:A",) * 3
    assert labels[5:7] == ("ase:B",) * 2       # the transition leads into B
    assert labels[7:9] == ("ase:B",) * 2
    assert labels[9:] == ("ase:B",) * 3        # after the last sign: still B


def test_a_transition_segment_is_labelled_like_a_gap_and_manual_signs_by_their_gloss():
    labels = labels_of(10, Segment("A", "gsg", 0, 3, kind=SegmentKind.MANUAL),
                       Segment("-", "gsg", 3, 6, kind=SegmentKind.TRANSITION),
                       Segment("SCH", "gsg", 6, 8, kind=SegmentKind.RECORDED))
    assert labels == ("gsg:A",) * 3 + ("gsg:SCH",) * 7


def test_without_signs_every_frame_is_unlabelled():
    assert labels_of(5) == (None,) * 5
    assert labels_of(5, Segment("-", "ase", 1, 3, kind=SegmentKind.TRANSITION)) == (None,) * 5


def test_overlapping_segments_leave_each_frame_one_label():
    labels = labels_of(8, Segment("A", "ase", 0, 5), Segment("B", "ase", 3, 7))
    assert labels == ("ase:A",) * 5 + ("ase:B",) * 3


@pytest.fixture
def store(tmp_path):
    store = LexiconStore(tmp_path / "lex.sqlite")
    for gloss, kind, words, shape in [("S", "letter", ("s",), "fist"),
                                      ("SCH", "letter", ("sch",), "flat"),
                                      ("U", "letter", ("u",), "asl_v"),
                                      ("HAUS", "sign", ("haus",), "index_point")]:
        store.add(LexiconEntry(gloss=gloss, language="gsg", words=words,
                               motion=letter_clip(shape, frames=12), source_kind="manual",
                               source="-", source_hash=gloss, licence="test", kind=kind))
    yield store
    store.close()


@pytest.mark.slow
def test_an_assembled_projects_labels_are_the_training_labels_of_its_clips(store):
    """A digraph letter and a lexicon sign: the studio's label is byte for byte the
    ``ClipRecord.label`` the model was trained on for that clip."""
    project = assemble(text_to_tokens("schu haus", "gsg", store), store, "gsg", Timing(fps=25))
    assert [s.gloss for s in project.segments] == ["SCH", "U", "HAUS"]
    trained = {record.label for record in load_clips(store)}
    labels = project.frame_labels()
    assert set(labels) == {"gsg:SCH", "gsg:U", "gsg:HAUS"} <= trained
    for segment in project.segments:
        assert set(labels[segment.start:segment.end]) == {
            condition_text(segment.gloss, segment.language)}
