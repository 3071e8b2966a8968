import numpy as np
import pytest

from engine.motion import Motion


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
