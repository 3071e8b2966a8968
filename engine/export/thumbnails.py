"""Small renders of a motion's hands: the frames the CLIP image route embeds.

``HandThumbnails`` is a ``render_frames(motion, frames) -> list of images`` callable for
``engine.generate.clip_match`` (which may not import VTK, so the caller injects it).
Two views:

- ``"right_hand"`` (default): a close-up of the right (dominant) hand alone, ~0.27 m of
  the scene, from in front of the signer: what a photo of a handshape shows.
- ``"hands"``: the ``hands`` camera preset of ``engine.export.render``: both hands, and
  the preset widens until both are in view. For one-handed signs (every fingerspelled
  letter: the other arm hangs down) that is the whole body at 224 px, with the
  handshape ~20 px tall, too small to tell letters apart; so it is the choice for
  two-handed signs and photos of a whole signer, not the default.

Build once and call many times: the renderer (one off-screen VTK window) is kept.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.body.base import BodyModel
from engine.body.skeleton import JOINT_INDEX
from engine.motion.motion import Motion

THUMBNAIL_VIEWS = ("right_hand", "hands")
_RIGHT_HAND = [JOINT_INDEX["right_wrist"]] + [
    JOINT_INDEX[f"right_{finger}{k}"] for finger in ("thumb", "index", "middle", "ring", "pinky")
    for k in (1, 2, 3)]
# Bump when what a view looks like changes: cached embeddings are keyed by it.
# 3: the avatar's looks (sleeves, eyes); drawn in the default clothing colours, never
# the user's, so a colour setting does not make the cache stale.
_RENDER_VERSION = 3


class HandThumbnails:
    """Renders (size, size, 3) uint8 RGB close-ups of chosen frames of a motion.

    ``body``: the body model (default: the embedded avatar); ``size``: pixels (224 is
    CLIP ViT-B-32's input, so nothing is rescaled); ``view``: one of
    ``THUMBNAIL_VIEWS``. ``cache_key`` names everything that changes the pixels, so
    caches of embeddings of these images can tell when they are stale.
    """

    def __init__(self, body: BodyModel | None = None, size: int = 224, view: str = "right_hand",
                 anti_aliasing: str = "msaa"):
        if view not in THUMBNAIL_VIEWS:
            raise ValueError(f"HandThumbnails.view: expected one of {THUMBNAIL_VIEWS}, "
                             f"got {view!r}")
        if not isinstance(size, int) or not 32 <= size <= 2048:
            raise ValueError(f"HandThumbnails.size: expected 32..2048 pixels, got {size!r}")
        if body is None:
            from engine.body import default_avatar

            body = default_avatar()
        self.body = body
        self.size = size
        self.view = view
        self._anti_aliasing = anti_aliasing
        self._renderer = None  # opened on first use: building one costs a GL context

    @property
    def cache_key(self) -> str:
        return (f"hand-thumbnails/v{_RENDER_VERSION}:{self.view}:{self.size}px:"
                f"{self._anti_aliasing}:{type(self.body).__name__}:{self.body.num_vertices}")

    def __call__(self, motion: Motion, frames: Sequence[int]) -> list[np.ndarray]:
        """Images of ``motion`` at frame indices ``frames``: one (size, size, 3) uint8 each."""
        frames = [int(f) for f in frames]
        for frame in frames:
            if not 0 <= frame < motion.num_frames:
                raise ValueError(f"HandThumbnails: frame {frame} outside the motion's "
                                 f"0..{motion.num_frames - 1}")
        if not frames:
            return []
        if self._renderer is None:
            from engine.export.render import OffscreenRenderer

            self._renderer = OffscreenRenderer(self.body, self.size, self.size,
                                               anti_aliasing=self._anti_aliasing,
                                               clothing=(None, None))
        posed = self.body.forward(motion, np.asarray(frames))
        images = []
        for i in range(len(frames)):
            joints = posed.joints[i:i + 1]
            if self.view == "hands":
                self._renderer.set_camera("hands", joints)
            else:
                # Centred on the hand's joints (the fingers, not only the palm), seen
                # from in front of the signer, a little to their right and above: the
                # view of a person photographing the signer's hand.
                centre = joints[0, _RIGHT_HAND].mean(axis=0)
                self._renderer.look_at(centre, (-0.25, 0.2, 1.0), 0.27)
            images.append(self._renderer.render(posed.vertices[i]))
        return images

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> HandThumbnails:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
