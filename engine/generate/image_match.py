"""Image -> the best-matching lexicon entries (handshape search), offline.

The image goes through MediaPipe Hands (shipped models, no download), which gives 21
hand landmarks in metres around the hand ("world landmarks"). Each lexicon entry's
handshape is the avatar's right hand at the entry's steadiest frame, as the same 21
points (joints plus fingertip end sites). Both are reduced to a view-invariant
descriptor: the bend angle at each of the 15 finger joints, the spread between
neighbouring fingers, and the thumb tip's distance to each fingertip in hand sizes.
A photo can be taken from any side, so 2D shapes would not compare; joint angles do.
Beside the shape, how the hand is held (where it points, which way the palm faces, as
a frontal camera sees it) is weighed too: letters of one shape held differently (ASL
H, U and N; K and P) are otherwise a tie. On the studio's own hands close-ups of the
83 letters of ASL, DGS and Libras it lifted the right letter in the first three from 76 %
to 92 % (``bench/find_sign.py``, docs/studio.md).

Handedness: MediaPipe labels hands as if the image were a mirrored selfie, so in an
ordinary photo its "Left" is the person's right hand. ``mirrored=True`` says the image
is a selfie. The signer's dominant hand is taken as the right hand when both show.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.lexicon import EntrySummary, LexiconStore
from engine.motion.errors import ProjectFileError

# MediaPipe hand order: wrist, then thumb, index, middle, ring, pinky, 4 points each.
_FINGERS = [(1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20)]
_TIPS = [4, 8, 12, 16, 20]


def hand_descriptor(points: np.ndarray) -> np.ndarray:
    """(21, 3) hand points (MediaPipe order, any units) -> (24,) descriptor.

    15 bend angles (radians) + 4 spreads between neighbouring proximal bones (radians)
    + 5 thumb-tip distances (to the wrist and the other tips) in hand sizes.
    """
    p = np.asarray(points, np.float64)

    def angle(u: np.ndarray, v: np.ndarray) -> float:
        cosine = u @ v / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-12)
        return float(np.arccos(np.clip(cosine, -1.0, 1.0)))

    bends = []
    for chain in _FINGERS:
        joints = (0,) + chain
        for a, b, c in zip(joints, joints[1:], joints[2:]):
            bends.append(angle(p[b] - p[a], p[c] - p[b]))
    spreads = [angle(p[f1[1]] - p[f1[0]], p[f2[1]] - p[f2[0]])
               for f1, f2 in zip(_FINGERS[1:], _FINGERS[2:])]
    spreads.insert(0, angle(p[2] - p[1], p[6] - p[5]))  # thumb vs index
    size = max(np.linalg.norm(p[9] - p[0]), 1e-9)
    reach = [np.linalg.norm(p[4] - p[0]) / size] + [np.linalg.norm(p[4] - p[t]) / size
                                                      for t in _TIPS[1:]]
    return np.asarray(bends + spreads + reach, np.float64)


#: Weight of the hand's orientation (where the palm points and faces, unit vectors in
#: the avatar's frame) beside its shape. Letters that share a shape and differ in how the
#: hand is held (ASL H/U/N, K/P, G/Q) are told apart by it; small enough that the shape
#: still decides between different shapes seen from an odd angle.
ORIENTATION_WEIGHT = 1.0
#: MediaPipe's world landmarks (x right, y down, z away from the camera) in the avatar's
#: frame as a frontal camera sees it (x to the avatar's left, y up, z toward the camera).
MEDIAPIPE_TO_AVATAR = np.array([1.0, -1.0, -1.0])


def hand_orientation(points: np.ndarray) -> np.ndarray:
    """(6,) where the hand points (wrist to middle knuckle) and which way its palm
    faces (the normal of wrist, index and pinky knuckles), unit vectors."""
    p = np.asarray(points, np.float64)
    along = p[9] - p[0]
    normal = np.cross(p[5] - p[0], p[17] - p[0])
    return np.concatenate([along / max(np.linalg.norm(along), 1e-12),
                           normal / max(np.linalg.norm(normal), 1e-12)])


def oriented_descriptor(points: np.ndarray) -> np.ndarray:
    """(30,) ``hand_descriptor`` and the weighted ``hand_orientation`` of ``points``
    (21, 3) in the avatar's frame."""
    return np.concatenate([hand_descriptor(points),
                           ORIENTATION_WEIGHT * hand_orientation(points)])


@dataclass(frozen=True)
class ImageMatch:
    entry: EntrySummary
    distance: float   # descriptor distance (radians / hand sizes, RMS)
    score: float      # 0..1, higher is better: exp(-distance / SCORE_SCALE)


SCORE_SCALE = 0.3


class ImageQueryError(ProjectFileError):
    """The image could not be read, or shows no hand."""


def read_query_image(image: str | Path | np.ndarray) -> np.ndarray:
    """A path or an array -> (H, W, 3) uint8 RGB. Grey is repeated, alpha dropped."""
    if isinstance(image, np.ndarray):
        array, name = image, "image array"
    else:
        import imageio.v3 as iio

        path = Path(image)
        if not path.is_file():
            raise ImageQueryError(path, "no such file")
        try:
            array = np.asarray(iio.imread(path))
        except Exception as error:  # imageio raises many types for a bad file
            raise ImageQueryError(path, f"not a readable image ({error})") from None
        name = str(path)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or array.dtype != np.uint8:
        raise ImageQueryError(name, f"expected an (H, W, 3) 8-bit RGB image, got shape "
                                    f"{array.shape} dtype {array.dtype}")
    return np.ascontiguousarray(array[..., :3])


#: MediaPipe Pose landmarks: (wrist, index knuckle) of the signer's right and left hand,
#: and the two shoulders.
_POSE_HAND = {"right": (16, 20), "left": (15, 19)}
_POSE_SHOULDERS = (11, 12)   # left, right
#: The crop around a hand the pose found, in shoulder widths, and the size it is scaled
#: to: a hand in an upper-body picture is ~60 px, where the hand model's landmarks are
#: rough or missing.
CROP_SHOULDERS = 0.9
CROP_PIXELS = 320


@dataclass(frozen=True)
class BodyView:
    """How the signer's body is seen: ``facing`` (radians) is how far the shoulders are
    turned from facing the camera about the vertical (MediaPipe's camera axes),
    ``shoulder_pixels`` the shoulders' distance apart in the picture, and ``hands`` the
    pixel (x, y) of each hand's wrist and index knuckle that the pose saw."""

    facing: float
    shoulder_pixels: float
    hands: dict[str, tuple[np.ndarray, np.ndarray]]


def body_view(image: np.ndarray) -> BodyView | None:
    """The signer's body in ``image`` (MediaPipe Pose), or None where no upper body
    shows (a close-up of the hands)."""
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        result = pose.process(image)
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    pixels = np.array([[m.x * image.shape[1], m.y * image.shape[0]]
                       for m in result.pose_landmarks.landmark])
    seen = np.array([m.visibility for m in result.pose_landmarks.landmark])
    world = np.array([[m.x, m.y, m.z] for m in result.pose_world_landmarks.landmark])
    left, right = _POSE_SHOULDERS
    if min(seen[left], seen[right]) < 0.5:
        return None
    across = world[left] - world[right]            # toward the signer's left
    hands = {side: (pixels[wrist], pixels[knuckle]) for side, (wrist, knuckle)
             in _POSE_HAND.items() if min(seen[wrist], seen[knuckle]) >= 0.5}
    return BodyView(float(np.arctan2(across[2], across[0])),
                    float(np.linalg.norm(pixels[left] - pixels[right])), hands)


def facing_the_camera(points: np.ndarray, facing: float) -> np.ndarray:
    """(21, 3) hand points (MediaPipe camera axes) turned about the vertical by the
    body's ``facing``: as a camera square in front of the signer would see them, the
    frame the lexicon's descriptors are in."""
    c, s = np.cos(facing), np.sin(facing)
    x, y, z = np.asarray(points, np.float64).T
    return np.stack([x * c + z * s, y, -x * s + z * c], axis=1)


def _hands_in(image: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(side, (21, 2) pixel points, (21, 3) world points) of each hand MediaPipe Hands
    finds; ``side`` is the signer's (the image is not mirrored)."""
    import mediapipe as mp

    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2,
                                  model_complexity=1) as hands:
        result = hands.process(image)
    found = []
    for pixel, world, handedness in zip(result.multi_hand_landmarks or (),
                                        result.multi_hand_world_landmarks or (),
                                        result.multi_handedness or ()):
        label = handedness.classification[0].label  # named as if the image were mirrored
        found.append(("right" if label == "Left" else "left",
                      np.array([[m.x * image.shape[1], m.y * image.shape[0]]
                                for m in pixel.landmark]),
                      np.array([[m.x, m.y, m.z] for m in world.landmark])))
    return found


def _hand_near(image: np.ndarray, view: BodyView, side: str) -> np.ndarray | None:
    """(21, 3) world points of the hand at ``side``'s wrist in ``view``, found in a crop
    around it scaled up to ``CROP_PIXELS``; None when the crop shows no hand there."""
    wrist, knuckle = view.hands[side]
    centre = (wrist + knuckle) / 2
    half = max(24.0, CROP_SHOULDERS * view.shoulder_pixels / 2)
    top, left = (int(max(0, centre[1] - half)), int(max(0, centre[0] - half)))
    bottom = int(min(image.shape[0], centre[1] + half))
    right = int(min(image.shape[1], centre[0] + half))
    if bottom - top < 16 or right - left < 16:
        return None
    import PIL.Image

    crop = np.asarray(PIL.Image.fromarray(image[top:bottom, left:right]).resize(
        (CROP_PIXELS, CROP_PIXELS), PIL.Image.Resampling.BICUBIC))
    scale = np.array([(right - left) / CROP_PIXELS, (bottom - top) / CROP_PIXELS])
    best, best_distance = None, half
    for _, pixels, world in _hands_in(crop):
        distance = np.linalg.norm(pixels[0] * scale + [left, top] - wrist)
        if distance < best_distance:
            best, best_distance = world, distance
    return best


def image_hand_points(path: str | Path, mirrored: bool = False) -> np.ndarray:
    """(21, 3) metres: the dominant (right, else left mirrored) hand in the image, as a
    camera square in front of the signer would see it.

    Where the signer's upper body shows, MediaPipe Pose finds it first, and the hand is
    turned by how far the shoulders face away from the camera (a three-quarter view).
    A hand the hand model misses in the whole picture is looked for again in a close
    crop around the wrist the pose found (in an upper-body picture a hand is small);
    the crop is only a fallback: where both find the hand, the whole picture's
    landmarks matched better on our renders (docs/studio.md). A close-up of the hands
    is read as seen. ``mirrored``: a selfie, flipped back first."""
    image = read_query_image(path)
    if mirrored:
        image = np.ascontiguousarray(image[:, ::-1])
    os.environ.setdefault("GLOG_minloglevel", "2")
    view = body_view(image)
    found = {}
    for side, _, world in _hands_in(image):
        found.setdefault(side, world)
    if not found and view is not None:
        for side in ("right", "left"):   # the first the crop finds, the dominant first
            points = _hand_near(image, view, side) if side in view.hands else None
            if points is not None:
                found[side] = points
                break
    if not found:
        raise ImageQueryError(path, "no hand found in the image")
    turn = view.facing if view is not None else 0.0
    if "right" in found:
        return facing_the_camera(found["right"], turn)
    # A left hand mirrored into a right hand.
    return facing_the_camera(found["left"], turn) * [-1.0, 1.0, 1.0]


def steadiest_frame(right_hand_points: np.ndarray) -> int:
    """Frame index (in the middle half) where the hand moves least: the held shape."""
    frames = len(right_hand_points)
    if frames < 4:
        return frames // 2
    speed = np.linalg.norm(np.diff(right_hand_points, axis=0), axis=-1).mean(axis=-1)
    lo, hi = frames // 4, max(frames // 4 + 1, 3 * frames // 4)
    return lo + int(np.argmin(speed[lo:hi]))


class HandshapeIndex:
    """Descriptors of one language's lexicon entries, computed once (avatar FK)."""

    def __init__(self, store: LexiconStore, language: str, body=None):
        from engine.body.tips import hand_points

        if body is None:
            from engine.body import default_avatar

            body = default_avatar()
        self.entries: list[EntrySummary] = store.list(language)
        if not self.entries:
            raise ValueError(f"the lexicon ({store.path}) has no entries for '{language}'; "
                             "run `signstudio-cli lexicon build` first")
        descriptors = []
        for summary in self.entries:
            hand = hand_points(body, store.get(summary.id).motion, "right")
            descriptors.append(oriented_descriptor(hand[steadiest_frame(hand)]))
        self.descriptors = np.asarray(descriptors)

    def match(self, hand_points: np.ndarray, top: int = 5) -> list[ImageMatch]:
        """The ``top`` entries nearest ``hand_points`` (21, 3), in the avatar's frame."""
        query = oriented_descriptor(hand_points)
        distance = np.sqrt(((self.descriptors - query) ** 2).mean(axis=1))
        order = np.argsort(distance)[:top]
        return [ImageMatch(self.entries[i], float(distance[i]),
                           float(np.exp(-distance[i] / SCORE_SCALE))) for i in order]


def match_image(path: str | Path, store: LexiconStore, language: str, *, top: int = 5,
                mirrored: bool = False, index: HandshapeIndex | None = None) -> list[ImageMatch]:
    """The ``top`` lexicon entries whose handshape best matches the image's hand."""
    index = index or HandshapeIndex(store, language)
    return index.match(image_hand_points(path, mirrored) * MEDIAPIPE_TO_AVATAR, top)
