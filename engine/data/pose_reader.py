"""Read a ``.pose`` file (pose-format) holding MediaPipe Holistic keypoints.

``read_pose_file(path)`` returns a ``KeypointSequence`` in the normalised body frame
(see ``engine.data.keypoints``: origin at the shoulder midpoint, one unit = shoulder
width, X = subject's left, Y up, Z toward the camera). Each quirk of real files is
handled by one named function below, in the order ``read_pose_file`` applies them:

1. ``load_pose``: missing / non-.pose / empty / truncated / corrupt file -> a
   ``KeypointFileError`` naming the file and the problem.
2. ``holistic_layout``: find the Holistic components BY NAME in the header (never by
   fixed offsets), and the points inside them by name.
3. ``read_fps``: the header's fps (25, 29.97, 30, 24 all occur), float32 noise removed.
4. ``select_person``: files may hold several people; we read person 0 and say so.
5. ``confidence_from_mask``: pose-format masks missing points; masked -> confidence 0.
6. ``mark_missing_hands``: a hand that is all zeros (or all confidence 0) on a frame
   is missing on that frame, confidence 0 for all its points.
7. ``normalise_to_body_frame``: from the file's units (the spoken-to-signed lexicon is
   pre-normalised: shoulders ~200 units apart, centred near (250, 250), y down) to the
   shoulder-width frame, y up.
8. ``flat_z_ratios`` / ``is_flat_z``: z that carries no depth (the lexicon's hands have
   a z spread of ~0.02 units against ~50 units of hand size) -> ``metadata.is_2d``.
9. ``apply_dominant_hand``: per sign language, ``dominant_hand_stored_as``: ise stores
   the signing hand as LEFT; we mirror so downstream fitting always gets the signing
   hand as the right hand (or only report it, on request).
10. ``note_removed_hands``: ase, sgg, gsg had the left hand (and the body's left
    wrist) zeroed by the producer; we say so, since "absent" there means "not recorded".

Confidence semantics (kept, documented, not rescaled): body confidence is MediaPipe's
visibility (continuous in [0, 1]); hand and face confidence are 0/1 presence flags.
"""
from __future__ import annotations

import dataclasses

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np

from engine.data.keypoints import (
    BODY_INDEX, BODY_POINT_NAMES, COMPONENT_SIZES, HAND_POINT_NAMES, KeypointError,
    KeypointMetadata, KeypointSequence,
)
from engine.motion.errors import ProjectFileError

#: pose-format component name -> our component name (required ones).
HOLISTIC_COMPONENTS: dict[str, str] = {
    "POSE_LANDMARKS": "body",
    "FACE_LANDMARKS": "face",
    "LEFT_HAND_LANDMARKS": "left_hand",
    "RIGHT_HAND_LANDMARKS": "right_hand",
}
#: Optional components (read when present).
OPTIONAL_HOLISTIC_COMPONENTS: dict[str, str] = {"POSE_WORLD_LANDMARKS": "body_world"}

#: Which hand a sign language's clips store the signing (dominant) hand as, where it is
#: not the right hand. Languages not listed are assumed to store it as the right hand.
DOMINANT_HAND_STORED_AS: Mapping[str, Literal["left", "right"]] = {"ise": "left"}

#: Languages whose clips had the left hand (and the body's left wrist) zeroed by
#: spoken-to-signed's preprocessing ("ONLY_RIGHT_HAND"): one-handed fingerspelling.
LEFT_HAND_REMOVED: frozenset[str] = frozenset({"ase", "sgg", "gsg"})

#: Shoulders count as seen for normalisation at this body visibility or more.
SHOULDER_MIN_CONFIDENCE = 0.5
#: z is "flat" (no usable depth) when its spread is below this fraction of the x-y spread.
FLAT_Z_RATIO = 0.05


class KeypointFileError(ProjectFileError):
    """A keypoint file could not be read; ``path`` is the file, ``problem`` says why."""


# --- 1. the file --------------------------------------------------------------------

def load_pose(path: str | Path):
    """Parse ``path`` with pose-format's ``Pose.read`` and return the ``Pose``.

    Raises ``KeypointFileError`` for: a missing file, a directory, a name not ending in
    ``.pose``, an empty file, and any file pose-format cannot parse (truncated or not a
    .pose at all). pose-format reports those as struct.error, TypeError ("buffer is too
    small"), ValueError... rather than one exception type, so the parse is wrapped
    whole and the low-level message kept for diagnosis.
    """
    path = Path(path)
    if not path.exists():
        raise KeypointFileError(path, "file not found")
    if not path.is_file():
        raise KeypointFileError(path, "not a file")
    if path.suffix.lower() != ".pose":
        raise KeypointFileError(path, f"not a .pose file (the name ends in {path.suffix or 'no suffix'!r})")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeypointFileError(path, f"cannot read the file: {exc}") from exc
    if not raw:
        raise KeypointFileError(path, "the file is empty (0 bytes)")
    from pose_format import Pose  # imported here: only readers of .pose files need it

    try:
        return Pose.read(raw)
    except Exception as exc:
        raise KeypointFileError(
            path, f"not a readable .pose file (truncated or corrupt): {type(exc).__name__}: {exc}"
        ) from exc


# --- 2. layout ----------------------------------------------------------------------

def holistic_layout(header, path: str | Path) -> dict[str, np.ndarray]:
    """Map our component names to (N,) indices into the file's flat point axis.

    Components are found by NAME in ``header.components`` (their order and count vary
    between files: reduced or extended headers exist), and points inside them by name
    too (body and hands by landmark name, face by its index names "0".."477"), so the
    returned indices are in our layout's order whatever the file's order. Raises
    ``KeypointFileError`` naming what is missing.
    """
    expected_points = {
        "body": BODY_POINT_NAMES,
        "body_world": BODY_POINT_NAMES,
        "left_hand": HAND_POINT_NAMES,
        "right_hand": HAND_POINT_NAMES,
        "face": tuple(str(i) for i in range(COMPONENT_SIZES["face"])),
    }
    start = 0
    found: dict[str, tuple[int, list[str], str]] = {}
    for component in header.components:
        found[component.name] = (start, list(component.points), component.format)
        start += len(component.points)

    missing = [name for name in HOLISTIC_COMPONENTS if name not in found]
    if missing:
        have = ", ".join(f"{n} ({len(p)})" for n, (_, p, _) in found.items()) or "none"
        raise KeypointFileError(
            path,
            f"not a MediaPipe Holistic .pose: missing component(s) {', '.join(missing)}; "
            f"the file has {have}",
        )
    layout: dict[str, np.ndarray] = {}
    wanted = {**HOLISTIC_COMPONENTS, **{k: v for k, v in OPTIONAL_HOLISTIC_COMPONENTS.items() if k in found}}
    for file_name, ours in wanted.items():
        offset, points, fmt = found[file_name]
        if not fmt.upper().startswith("XYZ"):
            raise KeypointFileError(path, f"component {file_name} has point format {fmt!r}; expected XYZC")
        index = {p: i for i, p in enumerate(points)}
        absent = [p for p in expected_points[ours] if p not in index]
        if absent:
            raise KeypointFileError(
                path,
                f"component {file_name} has {len(points)} points and lacks "
                f"{len(absent)} of the {len(expected_points[ours])} expected (e.g. {absent[0]!r})",
            )
        layout[ours] = np.array([offset + index[p] for p in expected_points[ours]], dtype=np.intp)
    return layout


# --- 3. fps -------------------------------------------------------------------------

def read_fps(pose, path: str | Path) -> float:
    """The frame rate from the .pose header (``pose.body.fps``), in frames per second.

    The format stores fps as float32, so NTSC 29.97 reads back as 29.970029830932617;
    we snap values within 1e-5 (relative) of an integer or of k * 1000/1001 (23.976,
    29.97, 59.94) to that rate, so timing arithmetic does not drift. Other rates are
    kept as read.
    """
    fps = float(pose.body.fps)
    if not (math.isfinite(fps) and fps > 0):
        raise KeypointFileError(path, f"header fps must be a finite number > 0, got {fps!r}")
    for candidate in (round(fps), *(k * 1000 / 1001 for k in (24, 30, 60))):
        if candidate > 0 and abs(fps - candidate) <= 1e-5 * candidate:
            return float(candidate)
    return fps


# --- 4. person ----------------------------------------------------------------------

def select_person(data: np.ndarray, confidence: np.ndarray, path: str | Path, person: int = 0):
    """Take one person from pose-format's (F, P, N, 3) data and (F, P, N) confidence.

    Returns ``(data (F, N, 3), confidence (F, N), note or None)``; the note says how
    many people the file holds when it is more than one (we read ``person``, 0 by
    default: pose-format has no notion of "the signer", and single-signer clips put
    the signer first).
    """
    if data.ndim != 4 or data.shape[-1] < 3:
        raise KeypointFileError(
            path, f"unexpected data shape {data.shape}; expected (frames, people, points, 3)"
        )
    frames, people = data.shape[0], data.shape[1]
    if frames == 0:
        raise KeypointFileError(path, "the file holds no frames")
    if people == 0:
        raise KeypointFileError(path, "the file holds no people")
    if not 0 <= person < people:
        raise KeypointFileError(path, f"person {person} requested, the file holds {people}")
    note = f"the file holds {people} people; read person {person}" if people > 1 else None
    return data[:, person, :, :3], confidence[:, person], note


# --- 5. missing points --------------------------------------------------------------

def confidence_from_mask(data, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain float32 arrays from pose-format's masked data.

    pose-format returns positions as a numpy MaskedArray whose mask marks points with
    confidence 0. A point is missing when it is masked, has confidence <= 0, or has a
    non-finite value; missing points get confidence 0 and position (0, 0, 0). Other
    confidences are clipped to [0, 1] (they already are in MediaPipe output).
    Shapes: data (F, N, 3), confidence (F, N) in and out.
    """
    mask = np.ma.getmaskarray(data)
    values = np.asarray(np.ma.getdata(data), dtype=np.float32)
    conf = np.nan_to_num(np.asarray(confidence, dtype=np.float32), nan=0.0)
    missing = mask.any(axis=-1) | (conf <= 0) | ~np.isfinite(values).all(axis=-1)
    values = np.where(missing[..., None], np.float32(0.0), values)
    conf = np.where(missing, np.float32(0.0), np.clip(conf, 0.0, 1.0))
    return values.astype(np.float32), conf.astype(np.float32)


def mark_missing_hands(points: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A hand is missing on a frame when all its coordinates are exactly 0 or all its
    confidences are 0; then all 21 points get confidence 0 (and position 0).

    Why: producers "remove" a hand by zeroing it (spoken-to-signed does for ase, sgg,
    gsg), sometimes leaving confidence at 1; a hand at the origin is never real data.
    Shapes: points (F, 21, 3), confidence (F, 21).
    """
    zeroed = (points == 0).all(axis=(1, 2)) | (confidence <= 0).all(axis=1)
    points = np.where(zeroed[:, None, None], np.float32(0.0), points)
    confidence = np.where(zeroed[:, None], np.float32(0.0), confidence)
    return points.astype(np.float32), confidence.astype(np.float32)


# --- 7. units -----------------------------------------------------------------------

def shoulder_reference(body: np.ndarray, confidence: np.ndarray, path: str | Path):
    """Origin (3,) and scale (float) of the body frame, in the file's units.

    Origin: the midpoint of the median LEFT_SHOULDER and median RIGHT_SHOULDER over
    frames where both are seen (confidence >= SHOULDER_MIN_CONFIDENCE). Scale: the x-y
    distance between those two medians - x-y only, because z is often flat or in
    another scale, and a signer faces the camera so the shoulder line is near the
    image plane. One reference per clip (not per frame) keeps the body's own motion.
    """
    left, right = BODY_INDEX["LEFT_SHOULDER"], BODY_INDEX["RIGHT_SHOULDER"]
    seen = (confidence[:, left] >= SHOULDER_MIN_CONFIDENCE) & (
        confidence[:, right] >= SHOULDER_MIN_CONFIDENCE
    )
    if not seen.any():
        raise KeypointFileError(
            path, f"cannot normalise: both shoulders are never seen (confidence >= {SHOULDER_MIN_CONFIDENCE})"
        )
    left_pos = np.median(body[seen, left], axis=0)
    right_pos = np.median(body[seen, right], axis=0)
    scale = float(np.linalg.norm(left_pos[:2] - right_pos[:2]))
    if not scale > 1e-6:
        raise KeypointFileError(path, "cannot normalise: the shoulders coincide (shoulder width 0)")
    return ((left_pos + right_pos) / 2).astype(np.float64), scale


def normalise_to_body_frame(points: np.ndarray, confidence: np.ndarray, origin: np.ndarray,
                            scale: float) -> np.ndarray:
    """(F, N, 3) file units -> the normalised body frame (shoulder widths, Y up).

    File units are image-style: x right, y DOWN, z AWAY from the camera (MediaPipe:
    smaller z = closer). We subtract ``origin``, divide by ``scale`` and negate y and
    z: X = (x - ox) / s, Y = -(y - oy) / s, Z = -(z - oz) / s. Negating two axes is a
    rotation (180 degrees about X), not a reflection, so handedness is preserved: a
    right hand stays a right hand. The subject faces the camera, so its left (image
    right) is +X and it faces +Z - SMPL-X's convention. Missing points stay at 0.
    """
    out = (points.astype(np.float64) - origin) / scale
    out[..., 1:] *= -1.0
    out[confidence <= 0] = 0.0
    return out.astype(np.float32)


def describe_source_units_for(header):
    """``describe_source_units`` bound to a .pose header (what ``sequence_from_holistic``
    takes as ``units``)."""
    return lambda origin, scale: describe_source_units(header, origin, scale)


def describe_source_units(header, origin: np.ndarray, scale: float) -> str:
    """A sentence naming the file's units, for ``metadata.notes``.

    Recognises spoken-to-signed's pre-normalised layout (a 500x500 canvas, shoulders
    ~200 units apart centred near (250, 250)); anything else is called image units.
    The tolerances are wide because the package normalised before trimming: over the
    600 clips the median shoulder width is 165-219 units, the midpoint up to ~30 off.
    The note is informational; the conversion itself never depends on it.
    """
    dims = header.dimensions
    packaged = (
        (dims.width, dims.height) == (500, 500) and 150 <= scale <= 250
        and abs(origin[0] - 250) < 40 and abs(origin[1] - 250) < 40
    )
    kind = "spoken-to-signed normalised units" if packaged else "image units"
    return (
        f"source in {kind} (shoulder width {scale:.1f}, shoulder midpoint "
        f"({origin[0]:.1f}, {origin[1]:.1f})); converted to shoulder widths, origin at "
        f"the shoulder midpoint, X = subject's left, Y up, Z toward the camera"
    )


# --- 8. flat z ----------------------------------------------------------------------

def flat_z_ratios(points: Mapping[str, np.ndarray], confidence: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Per component: median over frames of (z spread / x-y spread) of the seen points.

    Spread is the standard deviation over a frame's seen points; x-y spread the RMS of
    the x and y ones. Components never seen (with >= 3 points) are left out. Real
    MediaPipe hands have ratios of the order of 0.3; the lexicon's ~0.0005.
    """
    ratios: dict[str, float] = {}
    for name in ("body", "left_hand", "right_hand"):
        pts, conf = points[name], confidence[name]
        per_frame = []
        for f in range(pts.shape[0]):
            seen = pts[f, conf[f] > 0]
            if len(seen) < 3:
                continue
            xy = math.sqrt((seen[:, 0].var() + seen[:, 1].var()) / 2)
            if xy > 0:
                per_frame.append(seen[:, 2].std() / xy)
        if per_frame:
            ratios[name] = float(np.median(per_frame))
    return ratios


def is_flat_z(ratios: Mapping[str, float]) -> bool:
    """True when any seen hand or the body has a flat z (ratio < FLAT_Z_RATIO): such a
    sequence is treated as 2D (``metadata.is_2d``); z is kept but is not depth."""
    return any(r < FLAT_Z_RATIO for r in ratios.values())


# --- 9. dominant hand ---------------------------------------------------------------

def dominant_hand_stored_as(sign_language: str | None) -> Literal["left", "right"] | None:
    """Which hand a language's clips store the signing hand as: "left" for ise (Irish
    SL in the lexicon), "right" for other languages, None when the language is unknown."""
    if sign_language is None:
        return None
    return DOMINANT_HAND_STORED_AS.get(sign_language, "right")


def apply_dominant_hand(sequence: KeypointSequence, *, mirror: bool = True) -> KeypointSequence:
    """Make the signing hand the right hand, by the rule for ``metadata.sign_language``.

    When the rule says "left" and ``mirror`` is true, the sequence is mirrored with
    ``KeypointSequence.mirrored()``: X -> -X AND left/right labels swapped (hands, body
    landmark pairs, face mesh pairs). Both are needed: the reflected left hand has a
    right hand's shape and sits on the right side, so it belongs in the right slot;
    a label swap alone would give a left-handed shape named "right" that no right-hand
    pose can fit (see ``mirrored`` for the full argument). With ``mirror=False`` the
    data are left as stored and a note reports where the signing hand is.
    """
    meta = sequence.metadata
    stored = dominant_hand_stored_as(meta.sign_language)
    if stored != "left":
        return sequence
    if not mirror:
        return sequence.replace(metadata=meta.with_note(
            f"{meta.sign_language} stores the signing hand as the LEFT hand; not mirrored"
        ))
    return sequence.mirrored().replace(metadata=meta.with_note(
        f"{meta.sign_language} stores the signing hand as the LEFT hand: mirrored left-right "
        f"(x negated and left/right swapped) so the signing hand is the right hand"
    ))


# --- 10. removed hands --------------------------------------------------------------

def note_removed_hands(sequence: KeypointSequence) -> KeypointSequence:
    """Note in metadata that the producer removed the left hand (ase, sgg, gsg).

    The data are already right (confidence 0 there); the note tells a consumer that
    the absent left hand (and the body's left wrist) is "not recorded", not "resting
    at the side", so it should not animate the hand from these zeros.
    """
    meta = sequence.metadata
    if meta.sign_language not in LEFT_HAND_REMOVED:
        return sequence
    return sequence.replace(metadata=meta.with_note(
        f"{meta.sign_language}: the left hand and the body's left wrist were removed by the "
        f"data's producer (confidence 0): absent means not recorded"
    ))


# --- the reader ---------------------------------------------------------------------

def read_pose_file(path: str | Path, *, sign_language: str | None = None, gloss: str | None = None,
                   person: int = 0, mirror_left_dominant: bool = True) -> KeypointSequence:
    """Read a MediaPipe Holistic ``.pose`` file into a normalised ``KeypointSequence``.

    ``sign_language`` (ISO 639-3, e.g. "ise") selects the per-language rules (signing
    hand side, removed hands); without it none is applied. ``person``: which person of
    a multi-person file (0 by default, noted in metadata). ``mirror_left_dominant``:
    mirror languages that store the signing hand as the left hand (default), or only
    note it. See the module docstring for the steps. Raises ``KeypointFileError``.
    """
    path = Path(path)
    pose = load_pose(path)
    layout = holistic_layout(pose.header, path)
    fps = read_fps(pose, path)
    notes: list[str] = []
    data, conf, note = select_person(pose.body.data, np.asarray(pose.body.confidence), path, person)
    if note:
        notes.append(note)
    data, conf = confidence_from_mask(data, conf)

    points = {name: data[:, idx] for name, idx in layout.items()}
    confidence = {name: conf[:, idx] for name, idx in layout.items()}
    dims = pose.header.dimensions
    return sequence_from_holistic(points, confidence, fps, path, notes,
                                  units=describe_source_units_for(pose.header),
                                  sign_language=sign_language, gloss=gloss,
                                  mirror_left_dominant=mirror_left_dominant,
                                  image_size=(dims.width, dims.height))


def sequence_from_holistic(points: dict[str, np.ndarray], confidence: dict[str, np.ndarray],
                           fps: float, path: str | Path, notes: list[str], *,
                           units=None, sign_language: str | None = None,
                           gloss: str | None = None,
                           mirror_left_dominant: bool = True,
                           depth_unreliable: str | None = None,
                           image_size: tuple[float, float] | None = None) -> KeypointSequence:
    """Normalise raw Holistic components (image-like units, y down) to a sequence.

    ``depth_unreliable``: a reason to treat z as unreliable whatever its spread (the
    sequence is then fitted in 2D), noted in the metadata.

    Shared by the ``.pose`` reader and the video importer, so both give the same frame.
    ``points``: component -> (F, N, 3); ``confidence``: component -> (F, N).
    ``units``: callable(origin, scale) -> a note describing the source units.
    ``image_size``: (width, height) of the source image in its units, if known.
    """
    path = Path(path)
    notes = list(notes)
    for hand in ("left_hand", "right_hand"):
        points[hand], confidence[hand] = mark_missing_hands(points[hand], confidence[hand])

    # All image-space components share the body's shoulders; the world landmarks are
    # in their own space (metres in MediaPipe; re-scaled by the lexicon's producer), so
    # they get their own shoulder reference.
    origin, scale = shoulder_reference(points["body"], confidence["body"], path)
    if units is not None:
        notes.append(units(origin, scale))
    ratios = flat_z_ratios(points, confidence)
    for name in COMPONENT_SIZES:
        points[name] = normalise_to_body_frame(points[name], confidence[name], origin, scale)
    if "body_world" in points:
        w_origin, w_scale = shoulder_reference(points["body_world"], confidence["body_world"], path)
        points["body_world"] = normalise_to_body_frame(
            points["body_world"], confidence["body_world"], w_origin, w_scale
        )

    is_2d = is_flat_z(ratios)
    if depth_unreliable and not is_2d:
        is_2d = True
        notes.append(f"treated as 2D: {depth_unreliable}")
    elif is_2d:
        flat = ", ".join(f"{k} {v:.4f}" for k, v in ratios.items() if v < FLAT_Z_RATIO)
        notes.append(f"z is flat (z/xy spread: {flat}): treated as 2D, z kept but unreliable")

    metadata = KeypointMetadata(
        source=str(path), sign_language=sign_language, gloss=gloss, is_2d=is_2d,
        notes=tuple(notes), source_origin=tuple(float(v) for v in origin), source_scale=scale,
    )
    if image_size is not None and min(image_size) > 0:
        width, height = (float(v) for v in image_size)
        metadata = dataclasses.replace(
            metadata, image_centre=((width / 2 - origin[0]) / scale, -(height / 2 - origin[1]) / scale),
            image_height=height / scale)
    try:
        sequence = KeypointSequence(fps=fps, confidence=confidence, metadata=metadata, **points)
    except KeypointError as exc:
        raise KeypointFileError(path, f"invalid keypoints: {exc}") from exc
    sequence = note_removed_hands(sequence)
    return apply_dominant_hand(sequence, mirror=mirror_left_dominant)
