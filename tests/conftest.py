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


def letter_clip(shape: str, frames: int = 10, fps: float = 25.0) -> Motion:
    """A letter-like clip: arms down, a flat right hand forming ``shape`` (a key of
    ``engine.body.reference_poses.RIGHT_HAND_SHAPES``) over ``frames`` frames."""
    from engine.body.reference_poses import RIGHT_HAND_SHAPES, arms_down
    from engine.motion.interpolate import inbetween

    flat = arms_down(Motion.zeros(1, fps=fps))
    target = flat.replace(right_hand_pose=RIGHT_HAND_SHAPES[shape][None])
    return Motion.concatenate([flat, inbetween(flat, target, frames - 2), target])
