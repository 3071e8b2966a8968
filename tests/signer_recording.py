"""A recording of a "signer" for the photoreal model's tests and bench: the default
avatar rendered moving its arms and hands, over a textured background (a plain one
would let a model ignore where the background goes), written as an MP4."""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: The colour the avatar is rendered over, then replaced by the texture.
KEY = (0, 255, 0)


def signing_motion(frames: int, seed: int = 0):
    """Both arms raised into signing space and moving, fingers curling and opening."""
    from engine.body.skeleton import JOINT_INDEX as J
    from engine.motion import Motion

    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 25.0
    body = np.zeros((frames, 21, 3), np.float32)
    phase = rng.uniform(0, 2 * np.pi, 6)
    body[:, J["left_shoulder"] - 1, 2] = -0.8 + 0.3 * np.sin(1.3 * t + phase[0])
    body[:, J["right_shoulder"] - 1, 2] = 0.8 + 0.3 * np.sin(1.1 * t + phase[1])
    body[:, J["left_shoulder"] - 1, 1] = 0.4 + 0.3 * np.sin(0.7 * t + phase[2])
    body[:, J["right_shoulder"] - 1, 1] = -0.4 + 0.3 * np.sin(0.9 * t + phase[3])
    body[:, J["left_elbow"] - 1, 1] = -1.9 + 0.4 * np.sin(1.7 * t + phase[4])
    body[:, J["right_elbow"] - 1, 1] = 1.9 + 0.4 * np.sin(1.5 * t + phase[5])
    curl = (0.6 + 0.6 * np.sin(2.1 * t))[:, None]
    hand = np.zeros((frames, 15, 3), np.float32)
    hand[:, :12, 2] = curl  # the four fingers' joints bend about z
    return Motion.zeros(frames).replace(body_pose=body,
                                        left_hand_pose=-hand,
                                        right_hand_pose=hand)


def textured_background(height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8: warm stripes and a checker, fixed."""
    y, x = np.mgrid[0:height, 0:width]
    stripes = 0.5 + 0.5 * np.sin(x / 9.0 + y / 23.0)
    checker = ((x // 24 + y // 24) % 2).astype(np.float64)
    out = np.stack([150 + 60 * stripes, 120 + 40 * checker, 90 + 30 * stripes * checker], -1)
    return out.astype(np.uint8)


def write_signer_video(path: Path, frames: int = 40, size: int = 160, seed: int = 0,
                       motion=None) -> Path:
    """The avatar doing ``motion`` (default ``signing_motion(frames, seed)``) over the
    textured background, at the motion's frame rate."""
    import imageio.v3 as iio

    from engine.body import default_avatar
    from engine.export.render import OffscreenRenderer

    avatar = default_avatar()
    # signing_motion's sines are timed at 25 frames a second
    rate = 25 if motion is None else round(motion.fps)
    motion = signing_motion(frames, seed) if motion is None else motion
    posed = avatar.forward(motion)
    background = textured_background(size, size)
    images = []
    with OffscreenRenderer(avatar, size, size, background=KEY, anti_aliasing="none") as renderer:
        renderer.set_camera("front", posed.joints)
        for vertices in posed.vertices:
            image = renderer.render(vertices)
            keyed = (np.abs(image.astype(int) - KEY).sum(-1) < 60)[..., None]
            images.append(np.where(keyed, background, image))
    iio.imwrite(path, np.stack(images), fps=rate, codec="libx264", plugin="pyav")
    return path
