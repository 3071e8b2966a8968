"""``Motion``: an immutable, validated sequence of SMPL-X parameters.

Layout (frame-major, F frames, axis-angle in radians, metres):

=====================  ==========  =================================================
field                  shape       meaning
=====================  ==========  =================================================
``global_orient``      (F, 3)      pelvis rotation in the world frame
``body_pose``          (F, 21, 3)  the 21 body joints after the pelvis (SMPL-X order)
``left_hand_pose``     (F, 15, 3)  index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3
``right_hand_pose``    (F, 15, 3)  same order; zeros = flat hand (not the MANO mean)
``jaw_pose``           (F, 3)      jaw rotation (+x opens the mouth)
``leye_pose``          (F, 3)      left eye
``reye_pose``          (F, 3)      right eye
``expression``         (F, E)      SMPL-X expression coefficients (E = 10 by default)
``face_blendshapes``   (F, 52)     ARKit-named weights in [0, 1] (see ``face.py``)
``transl``             (F, 3)      root translation, metres
``betas``              (B,)        body shape (SMPL-X shape space), per sequence
``fps``                float       frames per second, > 0
=====================  ==========  =================================================

Arrays are float32 and read-only. Edits (``replace``, ``with_frames``...) return a new
Motion that shares every array it did not change, so keeping old versions for undo
costs little and handing a Motion to a worker thread is safe.
"""
from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.motion.errors import MotionError
from engine.motion.face import NUM_FACE_BLENDSHAPES

NUM_BODY_JOINTS = 21
NUM_HAND_JOINTS = 15
DEFAULT_EXPRESSION_DIMS = 10
DEFAULT_BETA_DIMS = 10

#: Per-frame fields and their trailing shape (``None`` = free length, checked for
#: consistency only). Order is the order of the file format.
FRAME_FIELDS: dict[str, tuple[int | None, ...]] = {
    "global_orient": (3,),
    "body_pose": (NUM_BODY_JOINTS, 3),
    "left_hand_pose": (NUM_HAND_JOINTS, 3),
    "right_hand_pose": (NUM_HAND_JOINTS, 3),
    "jaw_pose": (3,),
    "leye_pose": (3,),
    "reye_pose": (3,),
    "expression": (None,),
    "face_blendshapes": (NUM_FACE_BLENDSHAPES,),
    "transl": (3,),
}
ROTATION_FIELDS = (
    "global_orient", "body_pose", "left_hand_pose", "right_hand_pose",
    "jaw_pose", "leye_pose", "reye_pose",
)


class Channel(str, enum.Enum):
    """Channel groups a keyframe can pin independently (e.g. the hands only)."""

    ROOT = "root"
    BODY = "body"
    LEFT_HAND = "left_hand"
    RIGHT_HAND = "right_hand"
    FACE = "face"


#: Which Motion fields each channel group owns. Every per-frame field is in exactly one.
CHANNEL_FIELDS: dict[Channel, tuple[str, ...]] = {
    Channel.ROOT: ("global_orient", "transl"),
    Channel.BODY: ("body_pose",),
    Channel.LEFT_HAND: ("left_hand_pose",),
    Channel.RIGHT_HAND: ("right_hand_pose",),
    Channel.FACE: ("jaw_pose", "leye_pose", "reye_pose", "expression", "face_blendshapes"),
}
ALL_CHANNELS: frozenset[Channel] = frozenset(Channel)
assert sorted(f for fs in CHANNEL_FIELDS.values() for f in fs) == sorted(FRAME_FIELDS)


def split_full_pose(full_pose: np.ndarray) -> dict[str, np.ndarray]:
    """(F, 55, 3) skeleton-order axis-angles -> the Motion's rotation fields (views)."""
    return {
        "global_orient": full_pose[:, 0],
        "body_pose": full_pose[:, 1:22],
        "jaw_pose": full_pose[:, 22],
        "leye_pose": full_pose[:, 23],
        "reye_pose": full_pose[:, 24],
        "left_hand_pose": full_pose[:, 25:40],
        "right_hand_pose": full_pose[:, 40:55],
    }


def _shape_text(trailing: tuple[int | None, ...]) -> str:
    return "(F, " + ", ".join("E" if d is None else str(d) for d in trailing) + ")"


#: Frame rates a Motion may have. Video runs at 24 to 60, motion capture up to a few
#: hundred; below 1 a file's timing is nonsense, and ffmpeg and .pose refuse the extremes.
MIN_FPS = 1.0
MAX_FPS = 1000.0


def _frozen_float32(name: str, value: object) -> np.ndarray:
    """Return ``value`` as a read-only float32 array, sharing it when already one."""
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise MotionError(
            f"Motion.{name}: expected a floating-point array, got dtype {array.dtype}"
        )
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    elif array.flags.writeable:
        array = array.copy()  # never alias a caller's writable buffer
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        where = f" (first at frame {bad[0]})" if array.ndim > 1 else ""
        raise MotionError(f"Motion.{name}: contains NaN or infinity{where}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Motion:
    """A validated, immutable SMPL-X parameter sequence (see the module docstring)."""

    global_orient: np.ndarray
    body_pose: np.ndarray
    left_hand_pose: np.ndarray
    right_hand_pose: np.ndarray
    jaw_pose: np.ndarray
    leye_pose: np.ndarray
    reye_pose: np.ndarray
    expression: np.ndarray
    face_blendshapes: np.ndarray
    transl: np.ndarray
    betas: np.ndarray = field(default_factory=lambda: np.zeros(DEFAULT_BETA_DIMS, np.float32))
    fps: float = 30.0

    def __post_init__(self) -> None:
        fps = self.fps
        if isinstance(fps, bool) or not isinstance(fps, (int, float, np.floating, np.integer)):
            raise MotionError(f"Motion.fps: expected a number of frames per second, got {fps!r}")
        if not math.isfinite(float(fps)) or not MIN_FPS <= float(fps) <= MAX_FPS:
            raise MotionError(f"Motion.fps: expected {MIN_FPS:g} to {MAX_FPS:g} frames per "
                              f"second, got {fps!r}")
        object.__setattr__(self, "fps", float(fps))

        arrays = {name: _frozen_float32(name, getattr(self, name)) for name in FRAME_FIELDS}
        num_frames = arrays["global_orient"].shape[0] if arrays["global_orient"].ndim else 0
        if num_frames == 0:
            raise MotionError("Motion.global_orient: expected at least one frame, got 0")
        for name, trailing in FRAME_FIELDS.items():
            array = arrays[name]
            ok = array.ndim == 1 + len(trailing) and array.shape[0] == num_frames and all(
                want is None or got == want for got, want in zip(array.shape[1:], trailing)
            )
            if not ok:
                raise MotionError(
                    f"Motion.{name}: expected shape {_shape_text(trailing)} with "
                    f"F={num_frames} frames, got {tuple(array.shape)}"
                )
            object.__setattr__(self, name, array)
        blend = arrays["face_blendshapes"]
        if blend.size and (blend.min() < 0.0 or blend.max() > 1.0):
            raise MotionError(
                "Motion.face_blendshapes: expected weights in [0, 1], got values in "
                f"[{blend.min():.3g}, {blend.max():.3g}]"
            )
        betas = _frozen_float32("betas", self.betas)
        if betas.ndim != 1:
            raise MotionError(f"Motion.betas: expected shape (B,), got {tuple(betas.shape)}")
        object.__setattr__(self, "betas", betas)

    # ----------------------------------------------------------------- construction
    @classmethod
    def zeros(
        cls,
        num_frames: int,
        fps: float = 30.0,
        expression_dims: int = DEFAULT_EXPRESSION_DIMS,
        beta_dims: int = DEFAULT_BETA_DIMS,
    ) -> Motion:
        """The rest pose (T-pose, flat hands, neutral face) held for ``num_frames``."""
        if num_frames < 1:
            raise MotionError(f"Motion: expected at least one frame, got {num_frames}")
        arrays = {
            name: np.zeros(
                (num_frames,) + tuple(expression_dims if d is None else d for d in trailing),
                np.float32,
            )
            for name, trailing in FRAME_FIELDS.items()
        }
        return cls(**arrays, betas=np.zeros(beta_dims, np.float32), fps=fps)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], fps: float,
                    betas: np.ndarray | None = None) -> Motion:
        """Build from a mapping holding some fields; missing ones are zeros.

        ``global_orient`` or ``body_pose`` (or any per-frame field) fixes F; an unknown
        key is an error so a typo never silently drops data.
        """
        unknown = sorted(set(arrays) - set(FRAME_FIELDS) - {"betas"})
        if unknown:
            raise MotionError(
                f"Motion: unknown field(s) {unknown}; expected some of {list(FRAME_FIELDS)}"
            )
        frames = {np.shape(v)[0] for k, v in arrays.items() if k in FRAME_FIELDS and np.ndim(v)}
        if len(frames) != 1:
            raise MotionError(
                f"Motion: per-frame fields disagree on the number of frames: {sorted(frames)}"
            )
        (num_frames,) = frames
        if num_frames < 1:
            raise MotionError("Motion: expected at least one frame, got 0")
        expression_dims = np.shape(arrays["expression"])[1] if "expression" in arrays else (
            DEFAULT_EXPRESSION_DIMS)
        base = cls.zeros(num_frames, fps=fps, expression_dims=expression_dims)
        values = {k: v for k, v in arrays.items() if k in FRAME_FIELDS}
        if betas is None:
            betas = arrays.get("betas", base.betas)
        return base.replace(**values, betas=betas)

    # ---------------------------------------------------------------------- reading
    @property
    def num_frames(self) -> int:
        return int(self.global_orient.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the end of the last (F / fps)."""
        return self.num_frames / self.fps

    @property
    def expression_dims(self) -> int:
        return int(self.expression.shape[1])

    def frame_arrays(self) -> dict[str, np.ndarray]:
        """The per-frame fields by name (read-only views, no copies)."""
        return {name: getattr(self, name) for name in FRAME_FIELDS}

    def full_pose(self) -> np.ndarray:
        """(F, 55, 3) axis-angle for the 55 SMPL-X joints in skeleton order.

        Order: pelvis, 21 body joints, jaw, left eye, right eye, 15 left hand,
        15 right hand (``engine.body.skeleton.JOINT_NAMES``).
        """
        f = self.num_frames
        return np.concatenate(
            [
                self.global_orient[:, None],
                self.body_pose,
                self.jaw_pose[:, None],
                self.leye_pose[:, None],
                self.reye_pose[:, None],
                self.left_hand_pose,
                self.right_hand_pose,
            ],
            axis=1,
        ).reshape(f, 55, 3)

    def with_full_pose(self, full_pose: np.ndarray) -> Motion:
        """A copy whose rotations come from a (F, 55, 3) skeleton-order array."""
        full_pose = np.asarray(full_pose)
        if full_pose.shape != (self.num_frames, 55, 3):
            raise MotionError(
                f"Motion.full_pose: expected shape ({self.num_frames}, 55, 3), "
                f"got {tuple(full_pose.shape)}"
            )
        return self.replace(**split_full_pose(full_pose))

    # ---------------------------------------------------------------------- editing
    def replace(self, **changes: object) -> Motion:
        """A new validated Motion with some fields replaced; the rest are shared."""
        return dataclasses.replace(self, **changes)

    def slice(self, start: int, stop: int) -> Motion:
        """Frames ``[start, stop)`` as a new Motion (same fps and betas)."""
        if not 0 <= start < stop <= self.num_frames:
            raise MotionError(
                f"Motion.slice: expected 0 <= start < stop <= {self.num_frames}, "
                f"got start={start}, stop={stop}"
            )
        return self.replace(**{k: v[start:stop] for k, v in self.frame_arrays().items()})

    def take(self, frames: np.ndarray) -> Motion:
        """The ``frames`` (F',) indices, in the order given, as a new Motion (same fps
        and betas): the frames a step changed, measured without the rest."""
        if np.asarray(frames).dtype == bool:
            raise MotionError("Motion.take: expected frame indices, got a boolean mask "
                              "(np.flatnonzero turns one into indices)")
        frames = np.asarray(frames, np.intp)
        if not len(frames) or frames.min() < -self.num_frames or frames.max() >= self.num_frames:
            raise MotionError(f"Motion.take: expected frame indices in 0..{self.num_frames - 1}")
        return self.replace(**{k: v[frames] for k, v in self.frame_arrays().items()})

    def frame(self, index: int) -> Motion:
        """One frame as a 1-frame Motion (the pose container keyframes use)."""
        if not -self.num_frames <= index < self.num_frames:
            raise MotionError(f"Motion.frame: index {index} outside 0..{self.num_frames - 1}")
        index %= self.num_frames
        return self.slice(index, index + 1)

    def with_frames(self, start: int, replacement: Motion,
                    channels: Iterable[Channel] = ALL_CHANNELS) -> Motion:
        """Overwrite frames ``[start, start + len(replacement))`` on the given channels.

        Fields outside ``channels`` and frames outside the range are kept bit for bit.
        """
        stop = start + replacement.num_frames
        if not 0 <= start < stop <= self.num_frames:
            raise MotionError(
                f"Motion.with_frames: range [{start}, {stop}) outside 0..{self.num_frames}"
            )
        self._check_compatible(replacement, "with_frames")
        changes = {}
        for channel in channels:
            for name in CHANNEL_FIELDS[Channel(channel)]:
                array = getattr(self, name).copy()
                array[start:stop] = getattr(replacement, name)
                changes[name] = array
        return self.replace(**changes)

    def with_channels_from(self, other: Motion, channels: Iterable[Channel]) -> Motion:
        """Take whole fields of ``channels`` from ``other`` (same frame count)."""
        if other.num_frames != self.num_frames:
            raise MotionError(
                f"Motion.with_channels_from: frame counts differ ({self.num_frames} "
                f"vs {other.num_frames})"
            )
        self._check_compatible(other, "with_channels_from")
        return self.replace(
            **{name: getattr(other, name) for c in channels for name in CHANNEL_FIELDS[Channel(c)]}
        )

    def _check_compatible(self, other: Motion, operation: str) -> None:
        if other.expression_dims != self.expression_dims:
            raise MotionError(
                f"Motion.{operation}: expression has {other.expression_dims} coefficients, "
                f"expected {self.expression_dims}"
            )

    @staticmethod
    def concatenate(motions: Iterable[Motion]) -> Motion:
        """Join motions end to end; fps, betas and expression size come from the first."""
        motions = list(motions)
        if not motions:
            raise MotionError("Motion.concatenate: expected at least one motion, got none")
        first = motions[0]
        for i, other in enumerate(motions[1:], start=1):
            if not math.isclose(other.fps, first.fps):
                raise MotionError(
                    f"Motion.concatenate: motion {i} has fps {other.fps}, expected {first.fps}"
                )
            first._check_compatible(other, "concatenate")
        return first.replace(
            **{name: np.concatenate([getattr(m, name) for m in motions]) for name in FRAME_FIELDS}
        )

    # --------------------------------------------------------------------- equality
    def equals(self, other: Motion, atol: float = 0.0) -> bool:
        """True when every field matches (exactly for ``atol=0``) and fps is equal."""
        if not isinstance(other, Motion) or self.num_frames != other.num_frames:
            return False
        if self.fps != other.fps or self.expression_dims != other.expression_dims:
            return False
        if self.betas.shape != other.betas.shape:
            return False
        names = list(FRAME_FIELDS) + ["betas"]
        if atol == 0.0:
            return all(np.array_equal(getattr(self, n), getattr(other, n)) for n in names)
        return all(np.allclose(getattr(self, n), getattr(other, n), atol=atol, rtol=0)
                   for n in names)

    def __repr__(self) -> str:
        return f"Motion({self.num_frames} frames at {self.fps:g} fps, {self.duration:.2f} s)"
