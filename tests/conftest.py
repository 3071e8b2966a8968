import os

import numpy as np
import pytest

from engine.motion import Motion


@pytest.fixture(autouse=True, scope="session")
def private_user_folders(tmp_path_factory):
    """Settings and caches of the test run live in a temporary folder, never the
    developer's own (tests that need their own set these again per test)."""
    folder = tmp_path_factory.mktemp("user")
    os.environ["SIGNSTUDIO_CONFIG_DIR"] = str(folder / "config")
    os.environ["SIGNSTUDIO_CACHE_DIR"] = str(folder / "cache")
    yield folder


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_motion(rng, num_frames=12, fps=25.0, scale=0.4) -> Motion:
    """A motion with every field filled, rotations within +-scale radians."""
    zeros = Motion.zeros(num_frames, fps=fps)
    fields = {}
    for name, value in zeros.frame_arrays().items():
        if name == "face_blendshapes":
            fields[name] = rng.uniform(0, 1, value.shape).astype(np.float32)
        else:
            fields[name] = rng.uniform(-scale, scale, value.shape).astype(np.float32)
    return zeros.replace(**fields, betas=rng.normal(size=10).astype(np.float32))


@pytest.fixture
def motion(rng):
    return random_motion(rng)


def letter_clip(shape: str, frames: int = 10, fps: float = 25.0) -> Motion:
    """A letter-like clip: arms down, a flat right hand forming ``shape`` (a key of
    ``engine.body.reference_poses.RIGHT_HAND_SHAPES``) over ``frames`` frames."""
    from engine.body.reference_poses import RIGHT_HAND_SHAPES, arms_down
    from engine.motion.interpolate import inbetween

    flat = arms_down(Motion.zeros(1, fps=fps))
    target = flat.replace(right_hand_pose=RIGHT_HAND_SHAPES[shape][None])
    return Motion.concatenate([flat, inbetween(flat, target, frames - 2), target])


#: Synthetic ASL letters (a flat hand forming a known shape): fast and deterministic.
LETTER_SHAPES = {"H": "asl_v", "E": "fist", "L": "index_point", "O": "fist", "B": "flat"}


@pytest.fixture
def lexicon_path(tmp_path):
    """A lexicon of the ``LETTER_SHAPES`` letters in ASL (``ase``), 12 frames each."""
    from engine.data.lexicon import LexiconEntry, LexiconStore

    path = tmp_path / "lexicon.sqlite"
    with LexiconStore(path) as store:
        for letter, shape in LETTER_SHAPES.items():
            store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                                   motion=letter_clip(shape, frames=12), source_kind="manual",
                                   source="test", source_hash=letter, licence="test",
                                   kind="letter"))
    return path


@pytest.fixture
def hello_project(lexicon_path):
    """'hello' fingerspelled in ASL from ``lexicon_path``'s letters, as the studio
    generates it (30 fps): a segment with keyframes a letter, KF2P transitions between."""
    from engine.data.lexicon import LexiconStore
    from engine.generate.assemble import assemble
    from engine.generate.timing import Timing
    from engine.generate.text import text_to_tokens
    from engine.jobs import CancelToken

    with LexiconStore(lexicon_path) as store:
        tokens = list(text_to_tokens("hello", "ase", store))
        return assemble(tokens, store, "ase", Timing(fps=30.0), progress=lambda *a: None,
                        cancel=CancelToken(), title="hello")


def tiny_lexicon(path, languages=("ase", "gsg"), seed: int = 0):
    """A small real SQLite lexicon for learned-model tests: per language one entry per
    hand shape in ``RIGHT_HAND_SHAPES`` (a letter-like clip from arms down to that
    shape, 12-20 frames at 25 fps, with a little seeded arm motion so no two clips are
    alike). Returns the open ``LexiconStore``; the caller closes it."""
    from engine.body.reference_poses import RIGHT_HAND_SHAPES
    from engine.data.lexicon import LexiconEntry, LexiconStore

    generator = np.random.default_rng(seed)
    store = LexiconStore(path)
    for language in languages:
        for index, shape in enumerate(sorted(RIGHT_HAND_SHAPES)):
            clip = letter_clip(shape, frames=int(generator.integers(12, 21)))
            sway = np.sin(np.linspace(0, np.pi, clip.num_frames))[:, None, None]
            body = clip.body_pose + (0.15 * sway * generator.normal(size=(1, 21, 3))).astype(np.float32)
            clip = clip.replace(body_pose=body)
            gloss = shape.upper()
            store.add(LexiconEntry(
                gloss=gloss, language=language, words=(shape,), motion=clip, kind="letter",
                source_kind="manual", source=f"synthetic/{language}/{shape}.mp4",
                source_hash=f"{language}-{shape}-{seed}-{index}", licence="synthetic test data"))
    return store
