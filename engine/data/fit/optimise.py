"""Stage 2 of the fit: Adam over every frame at once, from one initial pose.

The parameters are the free axis-angles, the unbounded ``u`` of each Euler angle
(``kinematics.euler_angles``), three log scales (camera, arm bones, hand bones) and a
camera offset. The camera is an orthographic projection onto X-Y (or X-Y-Z):
``kp = scale * (P - c) / w + offset``, with ``c`` the avatar's rest shoulder midpoint
and ``w`` its shoulder width (metres).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import roma
import torch

from engine.data.fit.constants import (
    DECAY_FACTOR, DECAY_FROM, FINGER_RADIUS, PROGRESS_REPORTS, WARMUP_DIVISOR, FitWeights,
)
from engine.data.fit.hand_volume import hand_volume
from engine.data.fit.kinematics import SkeletonForward, euler_angles, inverse_sigmoid
from engine.data.fit.losses import (
    acceleration_term, capsule_ends, collision_term, contact_term,
    hand_pose_prior, inside_body_term, keypoint_term, offset_prior_term, pose_prior_term,
    reader_term, scale_prior_term, sphere_centres, velocity_term,
)
from engine.data.fit.skeleton import FitSkeleton
from engine.data.fit.targets import Targets, contact_mask
from engine.data.keypoints import KeypointSequence
from engine.jobs import CancelToken, Progress


@dataclass(frozen=True)
class FitProblem:
    """The constant tensors of one fit: keypoints (``target`` (F, K, dims), ``weight``
    (F, K), ``model`` (K,) point index), the projection (``centre`` (dims,) metres,
    ``width`` metres), the prior (relaxed pose and per-joint weights), the hand volume
    and the per-frame thumb contacts (``contact`` (F, C))."""

    dims: int
    target: torch.Tensor
    weight: torch.Tensor
    model: torch.Tensor
    free: torch.Tensor
    centre: torch.Tensor
    width: float
    relaxed_rotvec: torch.Tensor
    relaxed_euler: torch.Tensor
    prior_rotvec: torch.Tensor
    prior_euler: torch.Tensor
    sphere_a: torch.Tensor
    sphere_b: torch.Tensor
    sphere_t: torch.Tensor
    pair_i: torch.Tensor
    pair_j: torch.Tensor
    contact: torch.Tensor
    contact_thumb: torch.Tensor
    contact_other: torch.Tensor
    coupling_slots: torch.Tensor
    #: Capsules (``engine.body.capsules``) as (joints (N, 2), offsets (N, 2, 3) metres,
    #: radii (N,) metres): the forearms (both halves), and the trunk, neck and head
    #: they are kept out of. Not the hands: held to the body's capsules, fingers that the
    #: keypoints put on a signer's chest bent away from their keypoints (2D error up to
    #: 14 % in a language), and assembly takes hands out of the body anyway.
    limb_capsules: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    body_capsules: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    #: The hand reader's guess (``hand_reader``): Euler angles (F, E, 3) radians, and
    #: (F, E) 1 where a seen hand's finger joint is pulled toward it, else 0.
    reader_target: torch.Tensor | None = None
    reader_mask: torch.Tensor | None = None

    @property
    def num_frames(self) -> int:
        return self.target.shape[0]


def fit_problem(seq: KeypointSequence, sk: FitSkeleton, targets: Targets, weights: FitWeights,
                dims: int, sizes: Mapping[str, float],
                reader_guess: tuple[np.ndarray, np.ndarray] | None = None) -> FitProblem:
    """Gather the tensors ``total_loss`` needs for ``seq`` on ``sk``; ``reader_guess``:
    (Euler angles (F, E, 3), mask (F, E)) of the hand reader (``hand_reader_guess``)."""
    f = torch.float32
    prior_rotvec, prior_euler = sk.prior_weights(weights)
    volume = hand_volume(sk)
    body_set, limb_set = sk.capsules
    forearms = limb_set.subset([name for name in limb_set.names if name.endswith("forearm")])

    def capsules(capsule_set):
        return (torch.tensor(capsule_set.joints, dtype=torch.int64),
                torch.tensor(capsule_set.offsets, dtype=f), torch.tensor(capsule_set.radii, dtype=f))

    return FitProblem(
        dims=dims,
        target=torch.tensor(targets.points[..., :dims]),
        weight=torch.tensor(targets.weight),
        model=torch.tensor(targets.model),
        free=torch.tensor(sk.euler_free),
        centre=torch.tensor(sk.shoulder_mid[:dims], dtype=f),
        width=sk.shoulder_width,
        relaxed_rotvec=torch.tensor(sk.relaxed_rotvec, dtype=f),
        relaxed_euler=torch.tensor(sk.euler_relaxed, dtype=f),
        prior_rotvec=torch.tensor(prior_rotvec, dtype=f),
        prior_euler=torch.tensor(prior_euler, dtype=f),
        sphere_a=torch.tensor(volume.a), sphere_b=torch.tensor(volume.b),
        sphere_t=torch.tensor(volume.t)[:, None],
        pair_i=torch.tensor(volume.pairs[:, 0]), pair_j=torch.tensor(volume.pairs[:, 1]),
        contact=torch.tensor(contact_mask(seq, sizes), dtype=f),
        contact_thumb=torch.tensor(volume.contact_thumb),
        contact_other=torch.tensor(volume.contact_other),
        coupling_slots=torch.tensor(sk.coupling_slots),
        limb_capsules=capsules(forearms),
        body_capsules=capsules(body_set),
        reader_target=None if reader_guess is None else torch.tensor(reader_guess[0], dtype=f),
        reader_mask=None if reader_guess is None else torch.tensor(reader_guess[1], dtype=f),
    )


@dataclass(frozen=True)
class FitParameters:
    """What Adam moves: ``rotvec`` (F, Nr, 3) radians, ``euler_u`` (F, E, 3) unbounded,
    ``log_scale`` (3,) camera / arm / hand, ``offset`` (dims,) shoulder widths."""

    rotvec: torch.Tensor
    euler_u: torch.Tensor
    log_scale: torch.Tensor
    offset: torch.Tensor

    @classmethod
    def start(cls, sk: FitSkeleton, rotvec0: np.ndarray, euler0: np.ndarray, dims: int
              ) -> FitParameters:
        """Parameters reproducing the pose (rotvec0 (F, Nr, 3), euler0 (F, E, 3)) at the
        avatar's own scale, with gradients on."""
        span = sk.euler_limits[..., 1] - sk.euler_limits[..., 0]
        u0 = np.where(sk.euler_free, inverse_sigmoid(
            (euler0 - sk.euler_limits[..., 0]) / np.where(span > 0, span, 1.0)), 0.0)
        return cls(rotvec=torch.tensor(rotvec0, dtype=torch.float32).requires_grad_(True),
                   euler_u=torch.tensor(u0, dtype=torch.float32).requires_grad_(True),
                   log_scale=torch.zeros(3, requires_grad=True),
                   offset=torch.zeros(dims, requires_grad=True))

    def tensors(self) -> list[torch.Tensor]:
        return [self.rotvec, self.euler_u, self.log_scale, self.offset]


def posed(params: FitParameters, problem: FitProblem, fk: SkeletonForward):
    """(euler (F, E, 3) radians, world rotations (F, 55, 3, 3), points (F, P, 3) metres,
    projected (F, P, dims) in the keypoint frame) of the current parameters."""
    euler = torch.where(problem.free, euler_angles(params.euler_u, fk.lo, fk.hi), torch.zeros(()))
    local = fk.local_rotations(params.rotvec, euler)
    bone_scale = torch.exp(torch.cat([torch.zeros(1), params.log_scale[1:]]))
    rotations, points = fk(local, bone_scale)
    projected = (torch.exp(params.log_scale[0]) * (points[..., :problem.dims] - problem.centre)
                 / problem.width + params.offset)
    return euler, rotations, points, projected


def total_loss(params: FitParameters, problem: FitProblem, fk: SkeletonForward,
               weights: FitWeights):
    """(loss, euler, projected): every ``losses`` term times its weight, the per-frame
    terms averaged over frames."""
    euler, rotations, points, projected = posed(params, problem, fk)
    per_frame = 1.0 / problem.num_frames
    data = keypoint_term(projected[:, problem.model], problem.target, problem.weight)
    prior = pose_prior_term(params.rotvec, problem.relaxed_rotvec, problem.prior_rotvec,
                            euler, problem.relaxed_euler, problem.prior_euler)
    loss = (data * per_frame + prior * per_frame
            + weights.scale * scale_prior_term(params.log_scale)
            + weights.offset * offset_prior_term(params.offset))
    if problem.num_frames > 1:
        loss = loss + weights.velocity * velocity_term(params.rotvec, euler) * per_frame
    if problem.num_frames > 2:
        loss = loss + weights.acceleration * acceleration_term(points, problem.width) * per_frame
    thickness = 2 * FINGER_RADIUS * torch.exp(params.log_scale[2])
    spheres = sphere_centres(points, problem.sphere_a, problem.sphere_b, problem.sphere_t)
    loss = loss + weights.collision * collision_term(
        spheres, problem.pair_i, problem.pair_j, thickness) * per_frame
    loss = loss + weights.contact * contact_term(
        points[:, problem.contact_thumb], points[:, problem.contact_other], problem.contact,
        thickness) * per_frame
    loss = loss + hand_pose_prior(euler, problem.coupling_slots, weights) * per_frame
    if problem.reader_target is not None and weights.reader_pull:
        loss = loss + weights.reader_pull * reader_term(
            euler, problem.reader_target, problem.reader_mask) * per_frame
    if weights.inside_body:
        joints = points[:, :rotations.shape[1]]
        limb_joints, limb_offsets, limb_radii = problem.limb_capsules
        body_joints, body_offsets, body_radii = problem.body_capsules
        loss = loss + weights.inside_body * inside_body_term(
            capsule_ends(rotations, joints, limb_joints, limb_offsets), limb_radii,
            capsule_ends(rotations, joints, body_joints, body_offsets), body_radii,
            problem.width) * per_frame
    return loss, euler, projected


def learning_rate_factor(step: int, iterations: int) -> float:
    """The schedule's factor on the learning rate at ``step``: a linear warm-up, then a
    drop to ``DECAY_FACTOR`` for the last steps."""
    warmup = max(1, iterations // WARMUP_DIVISOR)
    return min(1.0, (step + 1) / warmup) * (1.0 if step < DECAY_FROM * iterations else DECAY_FACTOR)


def optimise(problem: FitProblem, sk: FitSkeleton, fk: SkeletonForward, weights: FitWeights,
             rotvec0: np.ndarray, euler0: np.ndarray, iterations: int, learning_rate: float,
             progress: Progress, cancel: CancelToken | None):
    """Adam over all frames from one initial pose. Returns (pose (F, 55, 3) axis-angle
    float32, projected model points (F, P, dims) in the keypoint frame, scales (3,)
    camera/arm/hand, final loss (float) of the returned parameters)."""
    params = FitParameters.start(sk, rotvec0, euler0, problem.dims)
    optimiser = torch.optim.Adam(params.tensors(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: learning_rate_factor(step, iterations))
    report_every = max(1, iterations // PROGRESS_REPORTS)
    for step in range(iterations):
        if cancel is not None:
            cancel.raise_if_cancelled()
        optimiser.zero_grad()
        loss = total_loss(params, problem, fk, weights)[0]
        loss.backward()
        optimiser.step()
        schedule.step()
        if (step + 1) % report_every == 0 or step + 1 == iterations:
            progress(step + 1, iterations, f"fitting keypoints (loss {loss.item():.4g})")

    with torch.no_grad():
        final_loss, euler, projected = total_loss(params, problem, fk, weights)
        local = fk.local_rotations(params.rotvec, euler)
        pose = roma.rotmat_to_rotvec(local).numpy().astype(np.float32)
        scales = np.exp(params.log_scale.numpy())
    return pose, projected.numpy(), scales, float(final_loss)
