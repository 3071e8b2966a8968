"""The CLIP image route: index, cache, query. With a tiny random CLIP the ranking means
nothing semantically, so these tests check behaviour: an entry's own thumbnail finds
that entry with cosine ~1, the cache is reused and invalidated when it must be."""
import sqlite3

import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.skeleton import JOINT_INDEX as J
from engine.data.lexicon import LexiconEntry, LexiconStore
from engine.generate.clip_match import (
    ClipIndex, ClipMatch, default_cache_path, match_image_clip, motion_hash, representative_frames,
)
from engine.generate.image_match import ImageQueryError
from engine.jobs import Cancelled, CancelToken
from engine.learn.encoders import ClipEncoder
from engine.motion.errors import ProjectFileError
from tests.conftest import letter_clip
from tests.engine.test_encoders import make_tiny_clip

LETTERS = {"A": "fist", "B": "flat", "D": "index_point", "V": "asl_v"}
_HAND = [J["right_wrist"]] + [J[f"right_{f}{k}"] for f in ("thumb", "index", "middle",
                                                          "ring", "pinky") for k in (1, 2, 3)]


class SketchFrames:
    """A GL-free render_frames: the right hand's 16 joints (avatar FK) as white dots on
    a 64 px black square, seen from the front. Counts what it renders."""

    cache_key = "test-sketch/v1"

    def __init__(self):
        self.calls = 0
        self.frames = 0

    def __call__(self, motion, frames):
        self.calls += 1
        self.frames += len(frames)
        joints = default_avatar().forward(motion, np.asarray(frames)).joints[:, _HAND, :2]
        images = []
        for points in joints:
            image = np.zeros((64, 64, 3), np.uint8)
            xy = ((points - points.mean(axis=0)) / 0.12 + 1) * 31.5
            for x, y in xy.clip(1, 62).round().astype(int):
                image[63 - y - 1:63 - y + 2, x - 1:x + 2] = 255
            images.append(image)
        return images


def _add_letters(store, letters=LETTERS):
    for letter, shape in letters.items():
        store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                               motion=letter_clip(shape), source_kind="manual", source="-",
                               source_hash=letter, licence="test", kind="letter"))


@pytest.fixture
def store(tmp_path):
    store = LexiconStore(tmp_path / "lex.sqlite")
    _add_letters(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return ClipEncoder.from_path(make_tiny_clip(tmp_path_factory.mktemp("clip") / "w", seed=0))


def test_index_is_cached_beside_the_lexicon_and_reused(store, encoder):
    sketch = SketchFrames()
    first = ClipIndex.build(store, "ase", encoder, sketch)
    assert first.rendered == 4 and sketch.frames == 4
    assert first.cache_path == default_cache_path(store) == store.path.with_name(
        "lex.clip-cache.sqlite")
    assert first.vectors.shape == (4, 32)
    again = SketchFrames()
    second = ClipIndex.build(store, "ase", encoder, again)
    assert second.rendered == 0 and again.calls == 0  # nothing rendered the second time
    assert np.array_equal(first.vectors, second.vectors)
    assert [e.gloss for e in second.entries] == ["A", "B", "D", "V"]


@pytest.mark.slow
def test_own_thumbnail_ranks_its_entry_first_with_cosine_one(store, encoder):
    sketch = SketchFrames()
    index = ClipIndex.build(store, "ase", encoder, sketch)
    for summary in index.entries:
        motion = store.get(summary.id).motion
        frame = representative_frames(motion)[0]
        query = sketch(motion, [frame])[0]
        matches = match_image_clip(query, "ase", store, encoder, sketch, 3, index=index)
        assert isinstance(matches[0], ClipMatch) and matches[0].route == "clip"
        assert matches[0].entry.gloss == summary.gloss
        assert matches[0].score == pytest.approx(1.0, abs=1e-4)
        assert matches[0].distance == pytest.approx(0.0, abs=1e-4)
        assert matches[0].frame == frame
        assert len(matches) == 3 and matches[1].score < matches[0].score
        assert matches[1].score >= matches[2].score


@pytest.mark.slow
def test_cache_is_invalidated_when_the_weights_change(store, encoder, tmp_path):
    ClipIndex.build(store, "ase", encoder, SketchFrames())
    other = ClipEncoder.from_path(make_tiny_clip(tmp_path / "other", seed=5))
    assert other.weights_sha256 != encoder.weights_sha256
    sketch = SketchFrames()
    rebuilt = ClipIndex.build(store, "ase", other, sketch)
    assert rebuilt.rendered == 4 and sketch.frames == 4
    with sqlite3.connect(default_cache_path(store)) as db:
        weights = {r[0] for r in db.execute("SELECT weights_sha256 FROM clip_embeddings")}
    assert weights == {encoder.weights_sha256, other.weights_sha256}
    # Switching back reuses the first weights' rows.
    back = SketchFrames()
    assert ClipIndex.build(store, "ase", encoder, back).rendered == 0 and back.calls == 0


@pytest.mark.slow
def test_changed_entry_or_renderer_is_embedded_again(store, encoder):
    ClipIndex.build(store, "ase", encoder, SketchFrames())
    # Replacing B's recording (same gloss and source hash) gives it a new motion.
    _add_letters(store, {"B": "asl_v"})
    sketch = SketchFrames()
    index = ClipIndex.build(store, "ase", encoder, sketch)
    assert index.rendered == 1 and sketch.calls == 1
    with sqlite3.connect(default_cache_path(store)) as db:
        rows = db.execute("SELECT COUNT(*) FROM clip_embeddings").fetchone()[0]
    assert rows == 4  # the old row of B was replaced, not kept beside the new one

    class OtherView(SketchFrames):
        cache_key = "test-sketch/v2"

    other = OtherView()
    assert ClipIndex.build(store, "ase", encoder, other).rendered == 4
    several = SketchFrames()
    index = ClipIndex.build(store, "ase", encoder, several, frames_per_entry=3)
    assert index.rendered == 4 and several.frames == 12 and index.vectors.shape == (12, 32)
    assert all(len(f) == 3 for f in index.frames)


def test_cancelled_build_keeps_finished_batches(store, encoder):
    token = CancelToken()
    seen = []

    def progress(done, total, message=""):
        seen.append((done, total))
        if done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        ClipIndex.build(store, "ase", encoder, SketchFrames(), batch_entries=2,
                        progress=progress, cancel=token)
    assert seen[0] == (0, 4) and (2, 4) in seen
    sketch = SketchFrames()
    assert ClipIndex.build(store, "ase", encoder, sketch, batch_entries=2).rendered == 2
    assert sketch.frames == 2


def test_bad_queries_and_inputs(store, encoder, tmp_path):
    sketch = SketchFrames()
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(ImageQueryError, match="not a readable image") as error:
        match_image_clip(junk, "ase", store, encoder, sketch)
    assert str(junk) in str(error.value)
    with pytest.raises(ImageQueryError, match="no such file"):
        match_image_clip(tmp_path / "missing.png", "ase", store, encoder, sketch)
    with pytest.raises(ImageQueryError, match=r"expected an \(H, W, 3\) 8-bit"):
        match_image_clip(np.zeros((8, 8, 3), np.float32), "ase", store, encoder, sketch)
    with pytest.raises(ValueError, match="no entries for 'gsg'.*lexicon build"):
        match_image_clip(np.zeros((8, 8, 3), np.uint8), "gsg", store, encoder, sketch)
    index = ClipIndex.build(store, "ase", encoder, sketch)
    with pytest.raises(ValueError, match="the index is for 'ase'"):
        match_image_clip(np.zeros((8, 8, 3), np.uint8), "gsg", store, encoder, None, index=index)

    def one_short(motion, frames):
        return sketch(motion, frames)[:-1]

    with pytest.raises(ValueError, match="returned 0 images for 1 frames"):
        ClipIndex.build(store, "ase", encoder, one_short, cache_path=tmp_path / "c2.sqlite")


def test_damaged_cache_file_is_named(store, encoder, tmp_path):
    cache = tmp_path / "damaged.sqlite"
    cache.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ProjectFileError, match="not a CLIP embedding cache.*delete") as error:
        ClipIndex.build(store, "ase", encoder, SketchFrames(), cache_path=cache)
    assert str(cache) in str(error.value)


def test_motion_hash_and_representative_frames():
    fist, flat = letter_clip("fist"), letter_clip("flat")
    assert motion_hash(fist) == motion_hash(letter_clip("fist"))
    assert motion_hash(fist) != motion_hash(flat)
    assert motion_hash(fist) != motion_hash(fist.replace(fps=30.0))
    frames = representative_frames(fist, 3)
    assert len(frames) == 3 == len(set(frames))
    assert all(0 <= f < fist.num_frames for f in frames)
    assert frames[0] == representative_frames(fist, 1)[0]


@pytest.mark.slow
@pytest.mark.gl
def test_rendered_thumbnails_find_their_own_entry(store, encoder, tmp_path):
    """The real renderer: hand close-ups, and a query that is one of them."""
    from engine.export.thumbnails import HandThumbnails

    with HandThumbnails(size=96) as thumbnails:
        index = ClipIndex.build(store, "ase", encoder, thumbnails)
        images = {}
        for summary in index.entries:
            motion = store.get(summary.id).motion
            images[summary.gloss] = thumbnails(motion, representative_frames(motion))[0]
    assert all(image.shape == (96, 96, 3) and image.dtype == np.uint8
               for image in images.values())
    # A close-up shows a hand: a good share of shaded skin (R > G > B), not background.
    for image in images.values():
        drawn = image[image.min(axis=2) < 235].astype(float)
        assert len(drawn) > 0.1 * 96 * 96
        red, green, blue = drawn.mean(axis=0)
        assert red > green > blue
    assert not np.array_equal(images["A"], images["B"])
    import imageio.v3 as iio

    for gloss, image in images.items():
        path = tmp_path / f"{gloss}.png"
        iio.imwrite(path, image)
        matches = match_image_clip(path, "ase", store, encoder, None, 2, index=index)
        assert matches[0].entry.gloss == gloss
        assert matches[0].score == pytest.approx(1.0, abs=1e-4)
