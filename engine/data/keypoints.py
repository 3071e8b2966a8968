"""``KeypointSequence``: immutable, validated MediaPipe-Holistic-style keypoints.

Layout (F frames; every position array is float32 ``(F, N, 3)``, every confidence
float32 ``(F, N)`` in [0, 1]):

==================  ====  ===========================================================
component           N     points
==================  ====  ===========================================================
``body``            33    MediaPipe Pose landmarks, ``BODY_POINT_NAMES`` order
``face``            478   MediaPipe Face Mesh with refined irises (468 + 10)
``left_hand``       21    the subject's LEFT hand, ``HAND_POINT_NAMES`` order
``right_hand``      21    the subject's RIGHT hand
``body_world``      33    optional: MediaPipe's "world" pose landmarks, same order
==================  ====  ===========================================================

Frame and unit (what ``engine.data.pose_reader`` produces, and what ``metadata.units``
names as ``"shoulder_width"``): a right-handed frame with

* origin at the subject's shoulder midpoint (median over the clip, not per frame, so
  the body's own sway is kept),
* +X toward the subject's LEFT (image right for a camera facing the subject),
* +Y up, +Z toward the camera (the subject faces +Z),
* one unit = the subject's shoulder width (median over the clip).

These are SMPL-X's axes (Y up, facing +Z), so a fitter needs no axis change.

Confidence: 0 means "missing" (not detected, or removed by the data's producer); the
coordinates of a missing point are meaningless and are stored as 0. For MediaPipe body
landmarks confidence is the tracker's visibility (continuous); for hands and face it is
a presence flag (0 or 1), not a quality score.

``metadata.is_2d`` is True when z is unreliable (e.g. flattened by the producer): z is
kept as read but a consumer must not fit depth to it.

Like ``Motion``, arrays are read-only and edits return a new sequence.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

from engine.motion.errors import MotionError

#: Required components and their point counts, in file order.
COMPONENT_SIZES: dict[str, int] = {"body": 33, "face": 478, "left_hand": 21, "right_hand": 21}
#: Optional components and their point counts.
OPTIONAL_COMPONENT_SIZES: dict[str, int] = {"body_world": 33}
ALL_COMPONENTS: tuple[str, ...] = tuple(COMPONENT_SIZES) + tuple(OPTIONAL_COMPONENT_SIZES)

#: MediaPipe Pose landmark names, index order (also the order of ``body_world``).
BODY_POINT_NAMES: tuple[str, ...] = (
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
    "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT",
    "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST",
    "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB",
    "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE",
    "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
)
#: MediaPipe Hands landmark names, index order (wrist, then thumb..pinky base to tip).
HAND_POINT_NAMES: tuple[str, ...] = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP",
    "INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP",
    "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP",
    "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)
BODY_INDEX = {name: i for i, name in enumerate(BODY_POINT_NAMES)}
HAND_INDEX = {name: i for i, name in enumerate(HAND_POINT_NAMES)}
HAND_WRIST = HAND_INDEX["WRIST"]
HAND_MIDDLE_MCP = HAND_INDEX["MIDDLE_FINGER_MCP"]


def _swap_left_right(name: str) -> str:
    return name.replace("LEFT", "\0").replace("RIGHT", "LEFT").replace("\0", "RIGHT")


#: BODY_MIRROR[i] is the body landmark that point i becomes under a left-right mirror
#: (LEFT_SHOULDER <-> RIGHT_SHOULDER, MOUTH_LEFT <-> MOUTH_RIGHT, NOSE stays).
BODY_MIRROR: np.ndarray = np.array(
    [BODY_INDEX[_swap_left_right(name)] for name in BODY_POINT_NAMES], dtype=np.intp
)

# Left-right symmetric pairs of the 478-point face mesh (468 mesh points + 10 refined iris
# points); the 28 points not listed lie on the midline and map to themselves.
# How we derived it (no MediaPipe needed at runtime): from the median face of each of 30
# clips of the spoken-to-signed lexicon (whose faces are a mean face, so nearly
# symmetric) we reflected x, matched points to their reflections with the Hungarian
# algorithm, refined the symmetry plane by a reflective Procrustes fit, and took the
# per-point consensus. The result is an involution (applying it twice is the identity);
# tests check that it maps a real face onto its own mirror image. It agrees point for
# point with pose-format 0.15.0's FLIPPED_FACE_POINTS, which we cannot import because
# that module requires mediapipe.
_FACE_MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (3, 248), (7, 249), (20, 250), (21, 251), (22, 252), (23, 253), (24, 254), (25, 255),
    (26, 256), (27, 257), (28, 258), (29, 259), (30, 260), (31, 261), (32, 262), (33, 263),
    (34, 264), (35, 265), (36, 266), (37, 267), (38, 268), (39, 269), (40, 270), (41, 271),
    (42, 272), (43, 273), (44, 274), (45, 275), (46, 276), (47, 277), (48, 278), (49, 279),
    (50, 280), (51, 281), (52, 282), (53, 283), (54, 284), (55, 285), (56, 286), (57, 287),
    (58, 288), (59, 289), (60, 290), (61, 291), (62, 292), (63, 293), (64, 294), (65, 295),
    (66, 296), (67, 297), (68, 298), (69, 299), (70, 300), (71, 301), (72, 302), (73, 303),
    (74, 304), (75, 305), (76, 306), (77, 307), (78, 308), (79, 309), (80, 310), (81, 311),
    (82, 312), (83, 313), (84, 314), (85, 315), (86, 316), (87, 317), (88, 318), (89, 319),
    (90, 320), (91, 321), (92, 322), (93, 323), (95, 324), (96, 325), (97, 326), (98, 327),
    (99, 328), (100, 329), (101, 330), (102, 331), (103, 332), (104, 333), (105, 334), (106,
    335), (107, 336), (108, 337), (109, 338), (110, 339), (111, 340), (112, 341), (113,
    342), (114, 343), (115, 344), (116, 345), (117, 346), (118, 347), (119, 348), (120,
    349), (121, 350), (122, 351), (123, 352), (124, 353), (125, 354), (126, 355), (127,
    356), (128, 357), (129, 358), (130, 359), (131, 360), (132, 361), (133, 362), (134,
    363), (135, 364), (136, 365), (137, 366), (138, 367), (139, 368), (140, 369), (141,
    370), (142, 371), (143, 372), (144, 373), (145, 374), (146, 375), (147, 376), (148,
    377), (149, 378), (150, 379), (153, 380), (154, 381), (155, 382), (156, 383), (157,
    384), (158, 385), (159, 386), (160, 387), (161, 388), (162, 389), (163, 390), (165,
    391), (166, 392), (167, 393), (169, 394), (170, 395), (171, 396), (172, 397), (173,
    398), (174, 399), (176, 400), (177, 401), (178, 402), (179, 403), (180, 404), (181,
    405), (182, 406), (183, 407), (184, 408), (185, 409), (186, 410), (187, 411), (188,
    412), (189, 413), (190, 414), (191, 415), (192, 416), (193, 417), (194, 418), (196,
    419), (198, 420), (201, 421), (202, 422), (203, 423), (204, 424), (205, 425), (206,
    426), (207, 427), (208, 428), (209, 429), (210, 430), (211, 431), (212, 432), (213,
    433), (214, 434), (215, 435), (216, 436), (217, 437), (218, 438), (219, 439), (220,
    440), (221, 441), (222, 442), (223, 443), (224, 444), (225, 445), (226, 446), (227,
    447), (228, 448), (229, 449), (230, 450), (231, 451), (232, 452), (233, 453), (234,
    454), (235, 455), (236, 456), (237, 457), (238, 458), (239, 459), (240, 460), (241,
    461), (242, 462), (243, 463), (244, 464), (245, 465), (246, 466), (247, 467), (468,
    473), (469, 476), (470, 475), (471, 474), (472, 477)
)


def _face_mirror_permutation() -> np.ndarray:
    perm = np.arange(COMPONENT_SIZES["face"], dtype=np.intp)
    for a, b in _FACE_MIRROR_PAIRS:
        perm[a], perm[b] = b, a
    return perm


#: FACE_MIRROR[i] is the face point that point i becomes under a left-right mirror.
FACE_MIRROR: np.ndarray = _face_mirror_permutation()
assert (FACE_MIRROR[FACE_MIRROR] == np.arange(FACE_MIRROR.size)).all()


class KeypointError(MotionError):
    """A KeypointSequence failed validation; the message names the field."""


@dataclass(frozen=True)
class KeypointMetadata:
    """Where a sequence came from and how to read it.

    ``source``: the file it was read from (None for synthetic data).
    ``sign_language``: ISO 639-3 code of the sign language (e.g. ``"ase"``), if known.
    ``gloss``: what is signed (e.g. ``"A"``), if known.
    ``is_2d``: z is unreliable (kept, but do not fit depth to it).
    ``units``: the length unit, ``"shoulder_width"`` for the normalised body frame.
    ``notes``: sentences saying what a reader did to the data (mirroring, person choice,
    removed hands...), so a user can see why a clip looks the way it does.
    ``source_origin``, ``source_scale``: how to go back to the file's own (image-style:
    x right, y down, z away from the camera) units, for overlays on the source video:
    ``source = source_origin + source_scale * (X, -Y, -Z)`` (before any mirroring).
    ``image_centre`` (X, Y), ``image_height``: the source image's centre and height in
    this frame's units (mirrored with the points), where the source had an image size;
    the face fit models the camera's perspective from them.
    """

    source: str | None = None
    sign_language: str | None = None
    gloss: str | None = None
    is_2d: bool = False
    units: str = "shoulder_width"
    notes: tuple[str, ...] = ()
    source_origin: tuple[float, float, float] | None = None
    source_scale: float | None = None
    image_centre: tuple[float, float] | None = None
    image_height: float | None = None

    def image_frame(self):
        """The source image as ``engine.face.fitting.ImageFrame`` (None where unknown)."""
        if self.image_centre is None or not self.image_height:
            return None
        from engine.face.fitting import ImageFrame

        return ImageFrame(self.image_centre, self.image_height)

    def with_note(self, note: str) -> KeypointMetadata:
        return dataclasses.replace(self, notes=self.notes + (note,))


def _frozen(name: str, value: object, trailing: tuple[int, ...]) -> np.ndarray:
    """``value`` as a read-only float32 array of shape (F,) + trailing, checked."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise KeypointError(f"KeypointSequence.{name}: expected a numeric array, got dtype {array.dtype}")
    if array.ndim != 1 + len(trailing) or tuple(array.shape[1:]) != trailing:
        want = "(F" + "".join(f", {d}" for d in trailing) + ")"
        raise KeypointError(f"KeypointSequence.{name}: expected shape {want}, got {array.shape}")
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    elif array.flags.writeable:
        array = array.copy()  # never alias a caller's writable buffer
    if not np.isfinite(array).all():
        frame = int(np.argwhere(~np.isfinite(array))[0][0])
        raise KeypointError(f"KeypointSequence.{name}: contains NaN or infinity (first at frame {frame})")
    array.setflags(write=False)
    return array


def _interpolation_positions(num_frames: int, fps_in: float, fps_out: float) -> np.ndarray:
    """Fractional source-frame positions of the output frames k / fps_out.

    Same timing rule as ``engine.motion.resample``: keep the first frame and never
    extrapolate past the last one (the epsilon keeps 25 -> 30 fps from losing the last
    frame to rounding).
    """
    count = int(math.floor((num_frames - 1) * fps_out / fps_in + 1e-9)) + 1
    positions = np.arange(count, dtype=np.float64) * (fps_in / fps_out)
    return np.minimum(positions, num_frames - 1)


@dataclass(frozen=True, eq=False)
class KeypointSequence:
    """Validated, immutable keypoints (see the module docstring for layout and frame).

    Positions: ``body`` (F, 33, 3), ``face`` (F, 478, 3), ``left_hand`` / ``right_hand``
    (F, 21, 3), optional ``body_world`` (F, 33, 3); float32 in ``metadata.units``.
    ``confidence`` maps each present component name to its (F, N) float32 in [0, 1].
    ``fps``: frames per second, finite and > 0.
    """

    body: np.ndarray
    face: np.ndarray
    left_hand: np.ndarray
    right_hand: np.ndarray
    confidence: Mapping[str, np.ndarray]
    fps: float
    body_world: np.ndarray | None = None
    metadata: KeypointMetadata = field(default_factory=KeypointMetadata)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: normalise fields once, here
        fps = self.fps
        if isinstance(fps, bool) or not isinstance(fps, (int, float, np.floating, np.integer)) or not (
            math.isfinite(float(fps)) and float(fps) > 0
        ):
            raise KeypointError(f"KeypointSequence.fps: expected a finite number > 0, got {fps!r}")
        set_(self, "fps", float(fps))
        if not isinstance(self.metadata, KeypointMetadata):
            raise KeypointError(
                f"KeypointSequence.metadata: expected KeypointMetadata, got {type(self.metadata).__name__}"
            )
        sizes = dict(COMPONENT_SIZES)
        if self.body_world is not None:
            sizes.update(OPTIONAL_COMPONENT_SIZES)
        for name, n in sizes.items():
            set_(self, name, _frozen(name, getattr(self, name), (n, 3)))
        frames = {name: getattr(self, name).shape[0] for name in sizes}
        if len(set(frames.values())) != 1:
            raise KeypointError(f"KeypointSequence: components disagree on the frame count: {frames}")
        num_frames = frames["body"]
        if num_frames < 1:
            raise KeypointError("KeypointSequence.body: expected at least one frame, got 0")

        if not isinstance(self.confidence, Mapping):
            raise KeypointError(
                f"KeypointSequence.confidence: expected a mapping of component name to (F, N) array, "
                f"got {type(self.confidence).__name__}"
            )
        extra = set(self.confidence) - set(sizes)
        missing = set(sizes) - set(self.confidence)
        if extra or missing:
            raise KeypointError(
                f"KeypointSequence.confidence: expected keys {sorted(sizes)}, "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        confidence: dict[str, np.ndarray] = {}
        for name, n in sizes.items():
            label = f"confidence[{name!r}]"
            conf = _frozen(label, self.confidence[name], (n,))
            if conf.shape[0] != num_frames:
                raise KeypointError(
                    f"KeypointSequence.{label}: expected {num_frames} frames, got {conf.shape[0]}"
                )
            if conf.size and (conf.min() < 0.0 or conf.max() > 1.0):
                raise KeypointError(
                    f"KeypointSequence.{label}: values must lie in [0, 1], "
                    f"got [{conf.min():g}, {conf.max():g}]"
                )
            confidence[name] = conf
        set_(self, "confidence", MappingProxyType(confidence))

    # -- basic facts -----------------------------------------------------------------

    @property
    def num_frames(self) -> int:
        return int(self.body.shape[0])

    @property
    def duration(self) -> float:
        """Seconds, counted as frames / fps (the time the clip occupies when played)."""
        return self.num_frames / self.fps

    @property
    def components(self) -> tuple[str, ...]:
        """Names of the present components, in layout order."""
        return tuple(name for name in ALL_COMPONENTS if getattr(self, name) is not None)

    def points(self, component: str) -> np.ndarray:
        """The (F, N, 3) positions of ``component`` (a name from ``components``)."""
        if component not in self.components:
            raise KeypointError(f"KeypointSequence: no component {component!r}; have {self.components}")
        return getattr(self, component)

    def present(self, component: str) -> np.ndarray:
        """(F,) bool: frames on which ``component`` has at least one detected point."""
        self.points(component)
        return self.confidence[component].max(axis=1) > 0

    def replace(self, **changes: object) -> KeypointSequence:
        """A new, re-validated sequence with the given fields changed."""
        return dataclasses.replace(self, **changes)

    # -- helpers ---------------------------------------------------------------------

    def hand_size(self, side: Literal["left", "right"]) -> np.ndarray:
        """(F,) float32 distance wrist -> middle-finger MCP of one hand, in ``metadata.units``.

        A stable length for normalising hand shapes (it barely changes as the fingers
        bend). Measured in x, y only when ``metadata.is_2d`` (z would add noise, or,
        when flattened, nothing); note that a 2D size shrinks when the palm turns away
        from the camera. NaN on frames where either point is missing.
        """
        if side not in ("left", "right"):
            raise KeypointError(f"hand_size: side must be 'left' or 'right', got {side!r}")
        name = f"{side}_hand"
        pts = self.points(name)
        conf = self.confidence[name]
        dims = 2 if self.metadata.is_2d else 3
        size = np.linalg.norm(pts[:, HAND_MIDDLE_MCP, :dims] - pts[:, HAND_WRIST, :dims], axis=1)
        ok = (conf[:, HAND_WRIST] > 0) & (conf[:, HAND_MIDDLE_MCP] > 0)
        return np.where(ok, size, np.nan).astype(np.float32)

    def swap_hands(self) -> KeypointSequence:
        """Relabel: the left-hand data becomes ``right_hand`` and vice versa.

        Geometry is unchanged - use this to fix a tracker that mislabelled the hands.
        It is NOT a mirror: a left hand's point set put into the right slot still has a
        left hand's chirality (its thumb is on the wrong side for a right hand). To turn
        a left-dominant signer into a right-dominant one, use ``mirrored()``.
        """
        conf = dict(self.confidence)
        conf["left_hand"], conf["right_hand"] = conf["right_hand"], conf["left_hand"]
        return self.replace(left_hand=self.right_hand, right_hand=self.left_hand, confidence=conf)

    def mirrored(self) -> KeypointSequence:
        """The subject reflected left-right through the sagittal plane X = 0.

        Every component gets X -> -X AND its left/right labels swapped: the two hands
        trade slots, body landmarks trade with their partners (``BODY_MIRROR``), face
        points with theirs (``FACE_MIRROR``).

        Why both: reflecting a left hand gives a point set with a right hand's chirality
        lying on the subject's right side - it IS a right hand now, so it must be stored
        as ``right_hand``. Swapping labels alone would hand a fitter a left-handed shape
        on the left side of the body labelled "right" (no rotation of a right hand can
        match it); reflecting alone would leave a right-hand shape labelled "left". The
        same holds for LEFT_SHOULDER etc.: after the reflection it sits at -X, the
        subject's right. The result is what a signer of the other handedness would look
        like performing the same sign, which is how sign languages treat handedness.

        The plane is X = 0, the clip's shoulder midpoint in the normalised frame; in
        another frame mirror after normalising.
        """
        def reflect(pts: np.ndarray, perm: np.ndarray) -> np.ndarray:
            out = pts[:, perm].copy()
            out[..., 0] *= -1.0
            out[..., 0] += 0.0  # turn -0.0 into 0.0 so missing points stay exactly 0
            return out

        conf = {
            "body": self.confidence["body"][:, BODY_MIRROR],
            "face": self.confidence["face"][:, FACE_MIRROR],
            "left_hand": self.confidence["right_hand"],
            "right_hand": self.confidence["left_hand"],
        }
        identity = np.arange(COMPONENT_SIZES["left_hand"])
        changes: dict[str, object] = {
            "body": reflect(self.body, BODY_MIRROR),
            "face": reflect(self.face, FACE_MIRROR),
            "left_hand": reflect(self.right_hand, identity),
            "right_hand": reflect(self.left_hand, identity),
        }
        if self.body_world is not None:
            changes["body_world"] = reflect(self.body_world, BODY_MIRROR)
            conf["body_world"] = self.confidence["body_world"][:, BODY_MIRROR]
        if self.metadata.image_centre is not None:
            x, y = self.metadata.image_centre
            changes["metadata"] = dataclasses.replace(self.metadata, image_centre=(-x + 0.0, y))
        return self.replace(**changes, confidence=conf)

    def slice(self, start: int | None = None, stop: int | None = None) -> KeypointSequence:
        """Frames ``[start, stop)`` with Python slice semantics (negative counts from the
        end, out-of-range clamps). The result must keep at least one frame."""
        window = slice(start, stop)
        lo, hi, _ = window.indices(self.num_frames)
        if hi <= lo:
            raise KeypointError(
                f"KeypointSequence.slice: [{start}, {stop}) selects no frames of {self.num_frames}"
            )
        changes: dict[str, object] = {name: getattr(self, name)[lo:hi] for name in self.components}
        changes["confidence"] = {name: c[lo:hi] for name, c in self.confidence.items()}
        return self.replace(**changes)

    def resample(self, fps: float) -> KeypointSequence:
        """The sequence sampled at ``fps``, keeping the first frame and the timing.

        Output frame k sits at time k / fps (floor((F-1) * fps / self.fps) + 1 frames).
        Positions are interpolated linearly between the two neighbouring source frames.
        Confidence is the MIN of the two neighbours (exact hits keep their own value):
        a point half-way between "seen" and "missing" is missing, so a hand never
        fades in from the origin. Where the result is missing (confidence 0) the
        position is 0, as everywhere else.
        """
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not (
            math.isfinite(fps) and fps > 0
        ):
            raise KeypointError(f"KeypointSequence.resample: expected a positive target fps, got {fps!r}")
        if math.isclose(fps, self.fps):
            return self.replace(fps=float(fps))
        positions = _interpolation_positions(self.num_frames, self.fps, float(fps))
        lo = np.floor(positions).astype(np.intp)
        hi = np.minimum(lo + 1, self.num_frames - 1)
        frac = (positions - lo).astype(np.float32)
        exact = frac == 0.0
        changes: dict[str, object] = {}
        conf_out: dict[str, np.ndarray] = {}
        for name in self.components:
            pts = getattr(self, name)
            conf = self.confidence[name]
            w = frac[:, None, None]
            out = pts[lo] * (1.0 - w) + pts[hi] * w
            c = np.where(exact[:, None], conf[lo], np.minimum(conf[lo], conf[hi]))
            out[c == 0] = 0.0
            changes[name] = out
            conf_out[name] = c
        return self.replace(**changes, confidence=conf_out, fps=float(fps))
