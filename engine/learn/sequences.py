"""Continuous signing with known sign boundaries, assembled from lexicon clips.

The segmenter needs sequences in which it is known exactly where each sign starts and
stops; nobody has annotated continuous recordings for us, so we make them: a few clips
of one language, each played at a random speed, joined by smooth transitions of random
length, with the signer resting (arms down) for a random while at the start and end.
Every frame that came from a clip lies inside that clip's span; transition and rest
frames lie outside any span.

Labels follow the BIO scheme of SignSparK's FAST: ``B`` on the first ``onset_frames``
frames of a sign, ``I`` inside it, ``O`` in transitions and rest. The B frames are what
lets a tagger separate two signs that follow each other with no transition between.

Why a join of our own and not ``engine.motion.interpolate.inbetween``: a slerp starts
and stops at constant speed, so every clip boundary would carry a sharp kink in angular
velocity, and a tagger could learn "kink = boundary", which real recordings do not
have. ``smooth_join`` carries each clip's own velocity into the transition (damped
extrapolation) and eases between the two extrapolations, so the speed is continuous
across the boundary. Its shape (damping, easing) is randomised per join for the same
reason. What remains synthetic, and a limit to keep in mind: the transitions are still
simpler than a person's, and the held-out sequences are made the same way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.reference_poses import arms_down
from engine.body.skeleton import JOINT_INDEX
from engine.learn.dataset import MODEL_FPS, ClipRecord
from engine.learn.features import motion_to_features
from engine.motion.interpolate import inbetween
from engine.motion.motion import FRAME_FIELDS, ROTATION_FIELDS, Motion, split_full_pose
from engine.motion.resample import resample

#: Per-frame tags (int8): outside any sign, first frames of a sign, inside a sign.
O, B, I = 0, 1, 2  # noqa: E741  (the BIO scheme's own letters)
TAG_NAMES = ("O", "B", "I")

Span = tuple[int, int]


@dataclass(frozen=True)
class SequenceConfig:
    """How sequences are assembled. Ranges are inclusive (low, high).

    ``speed``: playback-rate factor per clip (1.2 = 20 % faster, fewer frames);
    ``transition_frames``: frames of each join between two clips; ``rest_frames``: frames
    held at rest before the first and after the last clip (each drawn separately; 0 =
    the recording starts or ends mid-sign); ``onset_frames``: frames tagged B per sign;
    ``join``: "smooth" (``smooth_join``, for training) or "slerp"
    (``engine.motion.interpolate.inbetween``: a transition style the model never saw in
    training, to check that it did not just learn our join's shape).
    """

    clips_per_sequence: tuple[int, int] = (2, 6)
    speed: tuple[float, float] = (0.75, 1.35)
    transition_frames: tuple[int, int] = (2, 14)
    rest_frames: tuple[int, int] = (0, 20)
    onset_frames: int = 2
    min_clip_frames: int = 4
    join: str = "smooth"

    def __post_init__(self) -> None:
        for name in ("clips_per_sequence", "speed", "transition_frames", "rest_frames"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"SequenceConfig.{name}: expected 0 <= low <= high, got {(low, high)}")
        if self.clips_per_sequence[0] < 1 or self.speed[0] <= 0 or self.transition_frames[0] < 1:
            raise ValueError("SequenceConfig: expected at least 1 clip, a positive speed and "
                             "at least 1 transition frame")
        if self.join not in ("smooth", "slerp"):
            raise ValueError(f"SequenceConfig.join: expected 'smooth' or 'slerp', got {self.join!r}")
        if self.onset_frames < 1:
            raise ValueError(f"SequenceConfig.onset_frames: expected >= 1, got {self.onset_frames}")


@dataclass(frozen=True)
class AssembledSequence:
    """A continuous sequence and its ground truth.

    ``motion``: at MODEL_FPS; ``features``: (F, FEATURE_DIM) float32 of it; ``spans``:
    one ``(start, stop)`` per clip, frames ``[start, stop)``, in order; ``labels``: (F,)
    int8 tags O/B/I; ``entry_ids``: the lexicon entry of each span.
    """

    motion: Motion
    features: np.ndarray
    spans: tuple[Span, ...]
    labels: np.ndarray
    entry_ids: tuple[int, ...]

    @property
    def num_frames(self) -> int:
        return int(self.labels.shape[0])


def spans_to_labels(spans: Sequence[Span], num_frames: int, onset_frames: int = 2) -> np.ndarray:
    """(num_frames,) int8 BIO tags: B on each span's first ``onset_frames`` frames (at most
    half the span, at least one), I on the rest of it, O elsewhere."""
    labels = np.full(num_frames, O, np.int8)
    for start, stop in spans:
        if not 0 <= start < stop <= num_frames:
            raise ValueError(f"spans: ({start}, {stop}) outside 0..{num_frames}")
        onset = max(1, min(onset_frames, (stop - start) // 2))
        labels[start:stop] = I
        labels[start:start + onset] = B
    return labels


def time_stretch(motion: Motion, speed: float) -> Motion:
    """Play ``motion`` ``speed`` times faster (same fps, about F / speed frames)."""
    return resample(motion.replace(fps=motion.fps * speed), motion.fps).replace(fps=motion.fps)


def rest_pose(like: Motion, rng: np.random.Generator) -> Motion:
    """A 1-frame resting pose for ``like``'s signer: arms beside the hips, elbows a little
    bent, hands relaxed (a fifth of the clip's first hand shape), small random variation."""
    pose = like.frame(0)
    body = np.zeros_like(pose.body_pose)
    for joint in ("left_elbow", "right_elbow"):
        # Elbows flex about the local y axis in SMPL-X (negative for the left arm).
        sign = -1.0 if joint.startswith("left") else 1.0
        body[0, JOINT_INDEX[joint] - 1, 1] = sign * rng.uniform(0.05, 0.35)
    body += rng.normal(0.0, 0.03, body.shape).astype(np.float32)
    rest = pose.replace(body_pose=body, left_hand_pose=0.2 * pose.left_hand_pose,
                        right_hand_pose=0.2 * pose.right_hand_pose,
                        jaw_pose=np.zeros_like(pose.jaw_pose))
    return arms_down(rest)


def smooth_join(before: Motion, after: Motion, num_frames: int, damping: float = 0.6,
                ease: float = 1.0) -> Motion:
    """``num_frames`` frames leading from the end of ``before`` to the start of ``after``.

    Each joint's rotation carries on from ``before``'s last frame with that frame's
    angular velocity, decaying by ``damping`` per frame; likewise backwards from
    ``after``'s first frame; the two tracks are blended with a smoothstep weight
    (``ease`` > 1 holds the blend back longer, < 1 hurries it). The speed at both ends
    therefore matches the clips'. Non-rotation fields blend linearly with the same
    weight (blendshape weights stay in [0, 1]). Frames of ``before``/``after`` are not
    repeated. Returns a Motion with ``before``'s fps and betas.
    """
    if num_frames < 1:
        raise ValueError(f"smooth_join: expected at least one frame, got {num_frames}")
    k = np.arange(1, num_frames + 1, dtype=np.float64)
    t = k / (num_frames + 1)
    weight = t ** ease / (t ** ease + (1 - t) ** ease)  # 0 -> 1, flat at both ends
    weight = weight * weight * (3 - 2 * weight)
    # How far each track has coasted after j frames: damping + damping^2 + ... + damping^j.
    coast_fwd = damping * (1 - damping ** k) / (1 - damping)
    coast_back = coast_fwd[::-1]

    pose_a, pose_b = before.full_pose(), after.full_pose()
    end = Rotation.from_rotvec(pose_a[-1].reshape(-1, 3))
    start = Rotation.from_rotvec(pose_b[0].reshape(-1, 3))
    vel_a = ((Rotation.from_rotvec(pose_a[-2]) .inv() * end).as_rotvec()
             if len(pose_a) > 1 else np.zeros((55, 3)))
    vel_b = ((start.inv() * Rotation.from_rotvec(pose_b[1])).as_rotvec()
             if len(pose_b) > 1 else np.zeros((55, 3)))
    out = np.empty((num_frames, 55, 3))
    for j in range(num_frames):
        track_a = end * Rotation.from_rotvec(vel_a * coast_fwd[j])
        track_b = start * Rotation.from_rotvec(-vel_b * coast_back[j])
        delta = (track_a.inv() * track_b).as_rotvec()
        out[j] = (track_a * Rotation.from_rotvec(delta * weight[j])).as_rotvec()
    fields = split_full_pose(out.astype(np.float32))
    for name in FRAME_FIELDS:
        if name in ROTATION_FIELDS:
            continue
        a, b = getattr(before, name)[-1], getattr(after, name)[0]
        w = weight.reshape((-1,) + (1,) * a.ndim)
        fields[name] = ((1 - w) * a + w * b).astype(np.float32)
    return before.replace(**fields)


def _hold(pose: Motion, num_frames: int, rng: np.random.Generator) -> Motion:
    """A pose held for ``num_frames``, breathing a little (slow drift of the upper body)
    so that rest is not perfectly still as no recorded rest is."""
    drift = np.cumsum(rng.normal(0.0, 0.004, (num_frames, 21, 3)), axis=0).astype(np.float32)
    held = Motion.concatenate([pose] * num_frames)
    return held.replace(body_pose=held.body_pose + drift)


#: Largest jitter rotation added to a synthetic frame (radians): a residual this large is
#: a real movement, not fitting noise.
_MAX_JITTER = 0.15


def jitter_residuals(motions: Sequence[Motion]) -> np.ndarray:
    """(N, 55, 3) axis-angle: each frame's pose minus its centred 5-frame moving average
    (the first and last 2 frames of each motion left out), from every motion in turn:
    the frame-to-frame jitter of fitted recordings.

    Why: fitted clips shake a little from frame to frame and our synthetic transitions
    and rests would not, so a tagger could find signs by their noise alone. Adding real
    residuals to the synthetic frames takes that cue away.
    """
    residuals = []
    for motion in motions:
        pose = motion.full_pose().astype(np.float64)
        if len(pose) < 5:
            continue
        # Centred average without padding: padding would count the fast first and last
        # movements of a clip as jitter.
        smooth = sum(pose[k:len(pose) - 4 + k] for k in range(5)) / 5.0
        residual = pose[2:len(pose) - 2] - smooth
        norm = np.linalg.norm(residual, axis=-1, keepdims=True)
        residuals.append(residual * np.minimum(1.0, _MAX_JITTER / np.maximum(norm, 1e-12)))
    return np.concatenate(residuals) if residuals else np.zeros((1, 55, 3))


def _with_jitter(part: Motion, residuals: np.ndarray, rng: np.random.Generator) -> Motion:
    """``part`` with a random run of ``residuals`` added to its rotations (small angles,
    so adding axis-angle vectors is composing small rotations to first order)."""
    start = int(rng.integers(len(residuals)))
    index = (start + np.arange(part.num_frames)) % len(residuals)
    # Scaled down at random: the residuals also hold some real movement (curvature of
    # the clips' fast parts), and at full size they made transitions rougher than signs.
    scale = rng.uniform(0.3, 1.0)
    return part.with_full_pose((part.full_pose() + scale * residuals[index]).astype(np.float32))


def assemble_sequence(clips: Sequence[ClipRecord], rng: np.random.Generator,
                      config: SequenceConfig = SequenceConfig()) -> AssembledSequence:
    """One sequence made of ``clips`` in the given order (see the module docstring).

    Random speeds, transition lengths, rest lengths and join shapes come from ``rng``.
    """
    if not clips:
        raise ValueError("assemble_sequence: expected at least one clip")
    parts: list[Motion] = []
    spans: list[Span] = []
    length = 0

    def add(part: Motion) -> None:
        nonlocal length
        parts.append(part)
        length += part.num_frames

    def join(before: Motion, after: Motion) -> Motion:
        frames = int(rng.integers(config.transition_frames[0], config.transition_frames[1] + 1))
        if config.join == "slerp":
            joined = inbetween(before.frame(-1), after.frame(0), frames)
        else:
            joined = smooth_join(before, after, frames, damping=float(rng.uniform(0.3, 0.8)),
                                 ease=float(rng.uniform(0.7, 1.6)))
        return _with_jitter(joined, residuals, rng)

    def hold(pose: Motion, frames: int) -> Motion:
        return _with_jitter(_hold(pose, frames, rng), residuals, rng)

    stretched = []
    for clip in clips:
        motion = clip.motion if abs(clip.motion.fps - MODEL_FPS) < 1e-6 else resample(clip.motion, MODEL_FPS)
        speed = float(rng.uniform(*config.speed))
        if motion.num_frames / speed >= config.min_clip_frames:
            motion = time_stretch(motion, speed)
        stretched.append(motion)
    rest = rest_pose(stretched[0], rng)
    residuals = jitter_residuals(stretched)

    lead = int(rng.integers(config.rest_frames[0], config.rest_frames[1] + 1))
    if lead:
        held = hold(rest, lead)
        add(held)
        add(join(held, stretched[0]))
    for index, motion in enumerate(stretched):
        if index:
            add(join(stretched[index - 1], motion))
        spans.append((length, length + motion.num_frames))
        add(motion)
    tail = int(rng.integers(config.rest_frames[0], config.rest_frames[1] + 1))
    if tail:
        held = hold(rest, tail)
        add(join(stretched[-1], held))
        add(held)
    motion = Motion.concatenate(parts)
    return AssembledSequence(
        motion=motion, features=motion_to_features(motion), spans=tuple(spans),
        labels=spans_to_labels(spans, motion.num_frames, config.onset_frames),
        entry_ids=tuple(c.entry_id for c in clips))


def random_sequences(records: Sequence[ClipRecord], count: int, seed: int,
                     config: SequenceConfig = SequenceConfig()) -> list[AssembledSequence]:
    """``count`` sequences, each of clips of one language drawn from ``records``.

    A language is picked in proportion to its number of clips; its clips are drawn
    without replacement (with replacement only when it has fewer than needed). The
    result is a pure function of ``records``' content, ``count``, ``seed`` and ``config``.
    """
    if not records:
        raise ValueError("random_sequences: expected clips to assemble, got none")
    rng = np.random.default_rng(seed)
    by_language: dict[str, list[ClipRecord]] = {}
    for record in sorted(records, key=lambda r: (r.language, r.source_hash, r.entry_id)):
        by_language.setdefault(record.language, []).append(record)
    languages = sorted(by_language)
    weights = np.array([len(by_language[lang]) for lang in languages], np.float64)
    sequences = []
    for _ in range(count):
        pool = by_language[languages[rng.choice(len(languages), p=weights / weights.sum())]]
        wanted = int(rng.integers(config.clips_per_sequence[0], config.clips_per_sequence[1] + 1))
        picks = rng.choice(len(pool), size=wanted, replace=wanted > len(pool))
        sequences.append(assemble_sequence([pool[i] for i in picks], rng, config))
    return sequences
