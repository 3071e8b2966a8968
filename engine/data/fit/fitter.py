"""``fit_keypoints``: the whole fit of a keypoint sequence, stage by stage.

1. targets: the keypoints in model-point order, the hand sizes, the thumb contacts;
   the learned hand reader's guess at each seen hand's fingers (``hand_reader``);
2. ``initial_pose``: arm inverse kinematics and the hand grid (one or two starts);
3. ``optimise``: Adam over all frames from each start, keeping the lowest loss; a hand
   fitted badly is fitted once more from a grid with more finger shapes;
4. the Motion and its hand reprojection error.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from engine.body.skeleton import JOINT_INDEX
from engine.data.fit.constants import (
    DEFAULT_LANDMARKS, ITERATIONS, LANDMARK_MODELS, LEARNING_RATE, SECOND_GRID_FINGER_SHAPES,
    SECOND_GRID_THUMB_SHAPES, SECOND_START_ERROR, FitWeights,
)
from engine.data.fit.hand_reader import HandReader, euler_guess, shipped_hand_reader
from engine.data.fit.initial_pose import initial_pose
from engine.data.fit.kinematics import SkeletonForward
from engine.data.fit.optimise import fit_problem, optimise
from engine.data.fit.skeleton import FitSkeleton, skeleton_for
from engine.data.fit.targets import check_sequence, gather_targets, hand_quality, hand_sizes
from engine.data.keypoints import KeypointSequence
from engine.face.fitting import fit_face, frame_ranges, with_fitted_face
from engine.jobs import CancelToken, Progress
from engine.motion.filtering import FITTED_CUTOFF_HZ, low_pass
from engine.motion.motion import Motion


@dataclass(frozen=True)
class FitResult:
    """Outcome of ``fit_keypoints``.

    ``motion``: the fitted Motion (F frames at the sequence's fps; root and legs at
    rest, transl 0, face neutral).
    ``per_frame_error``: (F,) float32, mean 2D reprojection error of the seen hand
    points divided by the hand size (NaN on frames with no hand seen).
    ``quality``: summary numbers (see ``hand_quality``: ``hand_error_median``,
    ``hand_error_p95``), the fitted scales (``camera_scale``, ``arm_scale``,
    ``hand_scale``), ``iterations``, ``frames`` and ``seconds``; the face
    (``engine.face.fitting``): ``face_frames`` (frames a face was seen on), and
    ``face_missing`` ("3-10, 40": the frames held neutral) when some were not, or
    ``face`` saying why nothing was taken from it. ``hand_reader_frames``: hand
    frames the learned hand reader guided, or ``hand_reader`` saying why none was.
    ``hand_point_errors``: (F, 2, 21) float32 per-point normalised errors (hands left,
    right; MediaPipe point order; NaN where the point is not seen), for aggregating
    over many clips.
    """

    motion: Motion
    per_frame_error: np.ndarray
    quality: Mapping[str, float]
    hand_point_errors: np.ndarray


def fit_keypoints(seq: KeypointSequence, *, body=None, iterations: int = ITERATIONS,
                  progress: Progress | None = None, cancel: CancelToken | None = None,
                  weights: FitWeights | None = None, learning_rate: float = LEARNING_RATE,
                  landmarks: str = DEFAULT_LANDMARKS, starts: int = 1,
                  low_pass_hz: float | None = FITTED_CUTOFF_HZ,
                  face: bool | str = True,
                  hand_reader: HandReader | None | str = "shipped",
                  second_start: bool = True) -> FitResult:
    """Fit SMPL-X joint rotations on ``body`` (default: the embedded avatar) to ``seq``.

    ``iterations``: Adam steps over all frames at once, after the initial pose.
    ``progress(done, total, message)`` is called every few steps (``total`` is
    ``iterations``; with two starts each start counts for half; see ``second_start``);
    ``cancel.raise_if_cancelled()`` is checked every step (raises
    ``engine.jobs.Cancelled``). ``landmarks``: how MediaPipe's hand points sit on the
    skeleton (``LANDMARK_MODELS``, see ``FitSkeleton``). ``starts``: 1 (default) or 2
    initial poses: with 2 and ``landmarks="calibrated"`` the hand grid is also scored
    with joint-centre landmarks, both starts are optimised with the calibrated model and
    the lower final loss is kept (one start when both grids agree); opt-in, see
    docs/fitting.md. ``second_start``: a fit in which a hand's median 2D error is above
    ``SECOND_START_ERROR`` runs once more from a grid with more finger shapes (bent at
    the knuckle, hooked), and the lower final loss is kept; ``quality["second_start"]``
    says "kept" or "not kept" when it ran (its progress reports stay at the end of the
    bar, the message says so). ``quality["start"]`` says which start won (0: the
    model's own grid, then the joint-centre grid if it ran, last the second grid),
    ``quality["starts"]`` how many ran, ``quality["loss"]`` the final loss.
    ``low_pass_hz``: the fitted motion's jitter is then filtered out above this
    frequency (``engine.motion.filtering``; None: unfiltered), and
    ``quality["low_pass_hz"]`` records it. ``face``: True also fits the face
    (``engine.face.fitting``); otherwise it stays neutral, and a text says why in
    ``quality["face"]``. ``hand_reader``: the learned reading of MediaPipe's hands
    that each seen hand's fingers are pulled toward (``FitWeights.reader_pull``):
    "shipped" (default: the one in the assets, none when it is absent), a
    ``HandReader``, or None (the 2D points alone). Raises ``MotionError`` for a sequence
    that cannot be placed (no shoulders) or is not in shoulder widths; ``ValueError``
    for a bad ``landmarks``, ``starts``, ``iterations`` or ``hand_reader``.
    """
    check_sequence(seq)
    if iterations < 1:
        raise ValueError(f"fit_keypoints: iterations must be >= 1, got {iterations}")
    if body is None:
        from engine.body.default_avatar import default_avatar
        body = default_avatar()
    weights = weights or FitWeights()
    progress = progress or (lambda done, total, message="": None)
    started = time.perf_counter()
    progress(0, iterations, "fitting keypoints: initial pose")
    if landmarks not in LANDMARK_MODELS:
        raise ValueError(f"fit_keypoints: landmarks must be one of {LANDMARK_MODELS}, "
                         f"got {landmarks!r}")
    if isinstance(starts, bool) or starts not in (1, 2):
        raise ValueError(f"fit_keypoints: starts must be 1 or 2, got {starts!r}")
    sk = skeleton_for(body, landmarks)
    fk = SkeletonForward(sk)
    sizes = hand_sizes(seq)
    targets = gather_targets(seq, sk, weights, sizes)
    dims = 2 if seq.metadata.is_2d else 3
    reader, reader_note = _chosen_reader(hand_reader)
    guess = None if reader is None else hand_reader_guess(seq, sk, reader)

    with torch.enable_grad():
        initial = [initial_pose(seq, sk, fk, targets, dims)]
        if starts == 2 and landmarks != "joints":
            # The same grid scored with joint-centre landmarks: on the calibrated model's
            # own grid the wrist's twist comes out wrong on some letters (A, C, L), and
            # the data term alone does not undo a wrong palm facing.
            alt = skeleton_for(body, "joints")
            alt_pose = initial_pose(seq, alt, SkeletonForward(alt),
                                    gather_targets(seq, alt, weights, sizes), dims)
            if not all(np.array_equal(a, b) for a, b in zip(initial[0], alt_pose)):
                initial.append(alt_pose)
        if cancel is not None:
            cancel.raise_if_cancelled()
        problem = fit_problem(seq, sk, targets, weights, dims, sizes, guess)
        best = None
        for n, (rotvec0, euler0) in enumerate(initial):
            def report(done, total, message, n=n):
                progress((n * total + done) // len(initial), total, message)

            run = optimise(problem, sk, fk, weights, rotvec0, euler0, iterations,
                           learning_rate, report, cancel)
            if best is None or run[3] < best[3]:
                best = run + (n,)  # (pose, projected, scales, loss, start)
        second = None
        if second_start and worst_hand_error(seq, best[1], sk, sizes) > SECOND_START_ERROR:
            # A hand the grid's curls start badly (Q's index pointing down): once more from
            # a grid with more finger shapes, the lower final loss kept.
            initial.append(initial_pose(seq, sk, fk, targets, dims, SECOND_GRID_FINGER_SHAPES,
                                        SECOND_GRID_THUMB_SHAPES))

            def report_again(done, total, message):
                progress(total, total, f"a second start: {message}")

            run = optimise(problem, sk, fk, weights, *initial[-1], iterations, learning_rate,
                           report_again, cancel)
            second = run[3] < best[3]
            if second:
                best = run + (len(initial) - 1,)
    pose, projected, scales, loss, chosen = best
    motion = motion_from_pose(pose, seq.fps)
    if low_pass_hz is not None and low_pass_hz < seq.fps / 2:
        # The fit trembles from frame to frame; a signer's movement does not.
        motion = low_pass(motion, low_pass_hz)
    fitted_face = None
    if face is True:
        progress(iterations, iterations, "fitting the face")
        fitted_face = fit_face(seq.face, seq.confidence["face"], seq.fps,
                               use_z=not seq.metadata.is_2d, cancel=cancel,
                               image=seq.metadata.image_frame())
        motion = with_fitted_face(motion, fitted_face)
    per_frame, quality, point_errors = hand_quality(seq, projected, sk, sizes, dims)
    quality.update(
        camera_scale=float(scales[0]), arm_scale=float(scales[1]), hand_scale=float(scales[2]),
        iterations=float(iterations), seconds=time.perf_counter() - started,
        frames=float(seq.num_frames), loss=float(loss), start=float(chosen),
        starts=float(len(initial)),
    )
    if second is not None:
        quality["second_start"] = "kept" if second else "not kept"
    if isinstance(face, str):
        quality["face"] = face
    if guess is not None:
        quality["hand_reader_frames"] = float(guess[1].any(axis=1).sum())
    else:
        quality["hand_reader"] = reader_note
    if fitted_face is not None:
        quality["face_frames"] = float(fitted_face.found.sum())
        if fitted_face.view_angle is not None:
            quality["face_view_angle"] = float(fitted_face.view_angle)
        if fitted_face.still:
            quality["face"] = ("a still face on every frame (not a recording of one): "
                               "left neutral")
        elif not fitted_face.found.all():
            quality["face_missing"] = frame_ranges(fitted_face.missing_frames)
    if low_pass_hz is not None and low_pass_hz < seq.fps / 2:
        quality["low_pass_hz"] = float(low_pass_hz)
    return FitResult(motion=motion, per_frame_error=per_frame, quality=quality,
                     hand_point_errors=point_errors)


def worst_hand_error(seq: KeypointSequence, projected: np.ndarray, skeleton: FitSkeleton,
                     sizes) -> float:
    """The larger of the two hands' median 2D errors (hand sizes; NaN when no hand is
    seen) of a fit's ``projected`` (F, P, dims) model points: one hand fitted badly in a
    two-handed clip is not hidden by the other, and a 3D sequence is judged in 2D, as
    ``SECOND_START_ERROR`` was measured."""
    errors = hand_quality(seq, projected[..., :2], skeleton, sizes, 2)[2]  # (F, 2, 21)
    medians = [np.median(hand[np.isfinite(hand)]) for hand in errors.transpose(1, 0, 2)
               if np.isfinite(hand).any()]
    return float(max(medians)) if medians else float("nan")


def _chosen_reader(choice: HandReader | None | str) -> tuple[HandReader | None, str]:
    """(the reader ``fit_keypoints(hand_reader=choice)`` uses, why none when None)."""
    if choice is None:
        return None, "not used: switched off"
    if isinstance(choice, HandReader):
        return choice, ""
    if choice != "shipped":
        raise ValueError(f"fit_keypoints: hand_reader must be 'shipped', a HandReader or None, "
                         f"got {choice!r}")
    reader = shipped_hand_reader()
    return reader, "" if reader is not None else "not used: no hand reader in the assets"


def hand_reader_guess(seq: KeypointSequence, skeleton: FitSkeleton, reader: HandReader
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The reader's guess at every seen hand's fingers: (Euler angles (F, E, 3)
    radians, the relaxed pose where nothing is guessed; mask (F, E), 1.0 on the finger
    slots of a hand seen on that frame)."""
    angles = np.repeat(skeleton.euler_relaxed[None], seq.num_frames, 0)
    mask = np.zeros(angles.shape[:2])
    for side in ("left", "right"):
        # A hand is read only where MediaPipe found all of it (a hand is found whole).
        seen = (seq.confidence[f"{side}_hand"] > 0).all(axis=1)
        if not seen.any():
            continue
        rotvec = reader.read(seq.points(f"{side}_hand")[seen], side)
        for slot, guessed in euler_guess(skeleton, side, rotvec).items():
            angles[seen, slot] = guessed
            mask[seen, slot] = 1.0
    return angles, mask


def motion_from_pose(pose: np.ndarray, fps: float) -> Motion:
    """(F, 55, 3) axis-angle -> Motion (root and translation at rest)."""
    j = JOINT_INDEX
    return Motion.from_arrays({
        "global_orient": np.zeros((len(pose), 3), np.float32),
        "body_pose": pose[:, 1:22],
        "jaw_pose": pose[:, j["jaw"]],
        "left_hand_pose": pose[:, j["left_index1"]:j["left_index1"] + 15],
        "right_hand_pose": pose[:, j["right_index1"]:j["right_index1"] + 15],
    }, fps=fps)
