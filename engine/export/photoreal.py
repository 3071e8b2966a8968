"""Photoreal export: any Sign Studio motion drawn as the signer a PGMM model learned.

The motion's keypoints are those the ``.pose`` export projects (the avatar's front view,
``engine.export.pose_file``), with the arms stretched or shortened to the recorded
signer's lengths where they were measured, then moved and scaled so the avatar's rest
shoulders sit where the signer's do in the model's crop (``driving_points``): the model
sees poses placed, sized and reaching as in its training frames. Each frame is drawn
from the model's source frame (``engine.learn.pgmm``), in batches, and streamed to
ffmpeg; with ``side_by_side`` the avatar's render at the same size stands on the left.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from engine.atomic import atomic_output
from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.pgmm_data import ARMS, BODY_POINTS, LEFT_SHOULDER, RIGHT_SHOULDER, Framing
from engine.motion.motion import Motion

#: Frames drawn per batch: the model's memory grows with it, its speed hardly.
BATCH = 8
#: Holistic layout offsets of the hands in ``HolisticRig.world_points`` (33 body points,
#: 478 face points, then the left hand's 21 and the right hand's 21).
LEFT_HAND, RIGHT_HAND = 33 + 478, 33 + 478 + 21


def driving_points(motion: Motion, framing: Framing, body=None) -> tuple[np.ndarray, np.ndarray]:
    """The motion's keypoints (F, K, 2) in the model's crop units and seen (F, K), the
    avatar's rest shoulders placed at the signer's (see the module docstring)."""
    from engine.body.default_avatar import default_avatar
    from engine.export.pose_file import HolisticRig

    rig = HolisticRig(body or default_avatar())
    layout = (list(BODY_POINTS) + list(range(LEFT_HAND, LEFT_HAND + 21))
              + list(range(RIGHT_HAND, RIGHT_HAND + 21)))
    world, confidence = rig.world_points(motion)
    rest = rig.world_points(Motion.zeros(1))[0][0, layout]
    world, confidence = with_signers_arms(world[:, layout], rest, framing), confidence[:, layout]
    middle = (rest[LEFT_SHOULDER] + rest[RIGHT_SHOULDER]) / 2
    span = float(np.linalg.norm((rest[LEFT_SHOULDER] - rest[RIGHT_SHOULDER])[:2]))
    scale = framing.shoulder_width / span
    u = framing.shoulder_centre[0] + (world[..., 0] - middle[0]) * scale
    v = framing.shoulder_centre[1] - (world[..., 1] - middle[1]) * scale
    return np.stack([u, v], -1).astype(np.float32), (confidence > 0).astype(np.float32)


def with_signers_arms(world: np.ndarray, rest: np.ndarray, framing: Framing) -> np.ndarray:
    """``world`` (F, K, 3) keypoints with each arm's segments scaled, in 3D about its
    shoulder and elbow, from the avatar's lengths (``rest`` (K, 3), in shoulder widths)
    to the signer's, the hand carried with its wrist; unchanged where not measured."""
    if not (framing.upper_arm > 0 and framing.forearm > 0):
        return world
    world = world.copy()
    width = np.linalg.norm(rest[LEFT_SHOULDER] - rest[RIGHT_SHOULDER])
    hands = (slice(len(BODY_POINTS), len(BODY_POINTS) + 21), slice(len(BODY_POINTS) + 21, None))
    for (shoulder, elbow, wrist), hand in zip(ARMS, hands):
        s, e, w = (BODY_POINTS.index(i) for i in (shoulder, elbow, wrist))
        upper = framing.upper_arm * width / np.linalg.norm(rest[e] - rest[s])
        fore = framing.forearm * width / np.linalg.norm(rest[w] - rest[e])
        elbows = world[:, s] + (world[:, e] - world[:, s]) * upper
        wrists = elbows + (world[:, w] - world[:, e]) * fore
        world[:, hand] += (wrists - world[:, w])[:, None]
        world[:, e], world[:, w] = elbows, wrists
    return world


def export_photoreal(motion: Motion, path: str | Path, model_path: str | Path, *,
                     side_by_side: bool = False, body=None, progress: Progress = no_progress,
                     cancel: CancelToken | None = None) -> Path:
    """Write ``motion`` as a video of the model's signer (``.mp4``, ``.webm``, ``.gif``),
    at the model's size (twice as wide with ``side_by_side``: ``body``, default the
    default avatar, rendered beside it batch by batch), atomically.

    Raises ``CheckpointError`` naming the model file when it is not a photoreal model."""
    import torch

    from engine.export.video_pipeline import Encoder
    from engine.learn.train_pgmm import load_pgmm

    path = Path(path)
    model = load_pgmm(model_path)
    size = model.config.size
    points, seen = driving_points(motion, Framing.from_array(model.framing.numpy()))
    both = torch.from_numpy(seen) * model.source_seen[None]
    total = motion.num_frames
    width = 2 * size if side_by_side else size
    with contextlib.ExitStack() as stack:
        renderer = None
        if side_by_side:
            from engine.body.default_avatar import default_avatar
            from engine.export.render import OffscreenRenderer

            body = body or default_avatar()
            renderer = stack.enter_context(OffscreenRenderer(body, size, size))
            aim = np.unique(np.linspace(0, total - 1, min(total, 64)).round().astype(int))
            renderer.set_camera("front", body.forward(motion, aim).joints)
        temp_path = stack.enter_context(atomic_output(path))
        encoder = Encoder(temp_path, width, size, motion.fps, lambda index, image: image)
        try:
            with torch.no_grad():
                for start in range(0, total, BATCH):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    stop = min(total, start + BATCH)
                    count = stop - start
                    drawn = model(model.source_image[None].expand(count, -1, -1, -1),
                                  model.source_points[None].expand(count, -1, -1),
                                  torch.from_numpy(points[start:stop]), both[start:stop])["image"]
                    frames = (drawn.permute(0, 2, 3, 1) * 255).round().clamp(0, 255)
                    frames = frames.to(torch.uint8).numpy()
                    if renderer is not None:
                        avatar = body.forward(motion, slice(start, stop)).vertices
                        frames = [np.concatenate([renderer.render(v), f], 1)
                                  for v, f in zip(avatar, frames)]
                    for offset, frame in enumerate(frames):
                        encoder.put(start + offset, frame)
                    progress(stop, total, f"drawing frame {stop}/{total}")
            encoder.finish()
        except BaseException:
            encoder.abort()
            raise
    return path
