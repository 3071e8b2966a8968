"""The fitter's loss terms, each a plain function of tensors.

Every term returns a scalar summed over frames (and points); ``optimise.total_loss``
weighs each by its ``FitWeights`` field and averages over frames. Units: body points in
shoulder widths, rotations in radians, hand-volume gaps in finger thicknesses.
"""
from __future__ import annotations

import torch

from engine.body.capsules import closest_between_segments
from engine.data.fit.constants import DIP_PER_PIP, PIP_PER_MCP, FitWeights


def keypoint_term(projected: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
                  ) -> torch.Tensor:
    """Confidence-weighted squared distance of the model points to the keypoints.

    ``projected``, ``target``: (F, K, dims) model points in the keypoint frame and the
    keypoints they stand for (shoulder widths); ``weight``: (F, K), 0 where a keypoint
    is not seen (hand points already divided by the hand size squared).
    """
    residual = projected - target
    return (weight * (residual ** 2).sum(-1)).sum()


def pose_prior_term(rotvec: torch.Tensor, relaxed_rotvec: torch.Tensor, rotvec_weight: torch.Tensor,
                    euler: torch.Tensor, relaxed_euler: torch.Tensor, euler_weight: torch.Tensor
                    ) -> torch.Tensor:
    """Gaussian pull toward the relaxed pose, per joint weight.

    ``rotvec`` (F, Nr, 3) axis-angles and ``euler`` (F, E, 3) bounded Euler angles,
    radians; ``relaxed_*`` their means (Nr, 3) / (E, 3); ``*_weight`` (Nr,) / (E,) per
    radian^2 (``FitSkeleton.prior_weights``).
    """
    return ((rotvec_weight[:, None] * (rotvec - relaxed_rotvec) ** 2).sum()
            + (euler_weight[:, None] * (euler - relaxed_euler) ** 2).sum())


def scale_prior_term(log_scale: torch.Tensor) -> torch.Tensor:
    """Sum of log(scale)^2 of the camera and bone-group scales (3,): 0 at the avatar's
    own size, the same cost for x2 as for /2."""
    return (log_scale ** 2).sum()


def offset_prior_term(offset: torch.Tensor) -> torch.Tensor:
    """Squared camera offset (dims,) in shoulder widths: the keypoints are centred on
    the shoulders already, so the offset stays small."""
    return (offset ** 2).sum()


def velocity_term(rotvec: torch.Tensor, euler: torch.Tensor) -> torch.Tensor:
    """Squared frame-to-frame change of the pose parameters, (F, Nr, 3) axis-angles and
    (F, E, 3) Euler angles, in (radians per frame)^2. Needs F >= 2."""
    return (((rotvec[1:] - rotvec[:-1]) ** 2).sum()
            + ((euler[1:] - euler[:-1]) ** 2).sum())


def acceleration_term(points: torch.Tensor, width: float) -> torch.Tensor:
    """Squared second difference of the 3D model points (F, P, 3) metres, measured in
    shoulder widths (``width`` metres) per frame^2. Needs F >= 3."""
    moving = points / width
    accel = moving[2:] - 2 * moving[1:-1] + moving[:-2]
    return (accel ** 2).sum()


def sphere_centres(points: torch.Tensor, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor
                   ) -> torch.Tensor:
    """(F, S, 3) centres ``(1 - t) P[a] + t P[b]`` of spheres along the bones, from
    model points (F, P, 3); ``a``, ``b`` (S,) point indices, ``t`` (S, 1) fractions."""
    return points[:, a] * (1 - t) + points[:, b] * t


def collision_term(spheres: torch.Tensor, pair_i: torch.Tensor, pair_j: torch.Tensor,
                   thickness: torch.Tensor) -> torch.Tensor:
    """Squared overlap of sphere pairs that must not touch, in finger thicknesses.

    ``spheres``: (F, S, 3) centres, metres; ``pair_i``, ``pair_j``: (K,) sphere indices;
    ``thickness``: a finger's thickness (twice the sphere radius, metres). 0 while every
    pair is at least ``thickness`` apart. Resolves depth in 2D: a thumb seen over
    curled fingers goes in front of them, not through them.
    """
    gap = (spheres[:, pair_i] - spheres[:, pair_j]).norm(dim=-1)
    overlap = torch.relu(thickness - gap) / thickness
    return (overlap ** 2).sum()


def contact_term(thumb: torch.Tensor, other: torch.Tensor, mask: torch.Tensor,
                 thickness: torch.Tensor) -> torch.Tensor:
    """Squared gap between thumb tips and the finger points they touch in 2D, in finger
    thicknesses.

    ``thumb``, ``other``: (F, C, 3) candidate point pairs, metres; ``mask``: (F, C) 1
    where the pair touches in 2D (``targets.contact_mask``); 0 while touching pairs are
    within ``thickness`` (metres) of each other.
    """
    apart = (thumb - other).norm(dim=-1)
    far = torch.relu(apart - thickness) / thickness
    return (mask * far ** 2).sum()


def hand_pose_prior(euler: torch.Tensor, slots: torch.Tensor, weights: FitWeights) -> torch.Tensor:
    """Soft anatomical coupling of the finger joints, summed over frames (a scalar).

    ``euler``: (F, E, 3) bounded Euler angles (radians; axis 1 is flexion toward the
    palm); ``slots``: (3, 8) Euler slots of the MCP, PIP and DIP of each long finger
    (``FitSkeleton.coupling_slots``: hands left, right; fingers index, middle, ring,
    pinky). Penalties, in radian^2 times their weight:

    * ``couple_dip``: (DIP - DIP_PER_PIP x PIP)^2;
    * ``couple_pip``: (PIP - PIP_PER_MCP x MCP)^2;
    * ``couple_adjacent``: (curl_i - curl_(i+1))^2 between neighbouring fingers, with
      curl the mean flexion of a finger's three joints.

    Why: from the front, a finger's flexion is split between its joints in ways 2D
    points barely tell apart; real fingers do not move their joints independently, so
    the coupled split is the likelier one. The weights are small, so the data still win
    where they can tell (docs/fitting.md, "Hand-pose prior").
    """
    mcp, pip, dip = (euler[:, slots[k], 1] for k in range(3))
    loss = weights.couple_dip * ((dip - DIP_PER_PIP * pip) ** 2).sum()
    loss = loss + weights.couple_pip * ((pip - PIP_PER_MCP * mcp) ** 2).sum()
    curl = ((mcp + pip + dip) / 3).reshape(len(euler), -1, 4)
    return loss + weights.couple_adjacent * ((curl[..., 1:] - curl[..., :-1]) ** 2).sum()


def capsule_ends(rotations: torch.Tensor, positions: torch.Tensor, joints: torch.Tensor,
                 offsets: torch.Tensor) -> torch.Tensor:
    """(F, N, 2, 3) world ends of N capsules fixed to joints (``CapsuleSet``): world
    joint ``rotations`` (F, 55, 3, 3), ``positions`` (F, 55, 3) metres, ``joints`` (N, 2)
    indices, ``offsets`` (N, 2, 3) metres in each joint's rest frame. The offsets are
    the rest body's: with the fitter's arm scale (within about 20 % of 1) a forearm's
    elbow half ends a little off the scaled forearm's middle, which the loss tolerates."""
    return torch.einsum("fnkab,nkb->fnka", rotations[:, joints], offsets) + positions[:, joints]


def inside_body_term(limbs: torch.Tensor, limb_radii: torch.Tensor, bodies: torch.Tensor,
                     body_radii: torch.Tensor, width: float) -> torch.Tensor:
    """Squared depth, in shoulder widths (``width`` metres), of each limb capsule inside
    each body capsule, summed over frames.

    ``limbs``: (F, L, 2, 3) and ``bodies``: (F, B, 2, 3) capsule ends, metres; radii
    (L,) and (B,) metres. 0 while every limb is outside. Resolves depth the way the hand
    volume does for fingers: a forearm seen across the chest lies in front of it, not
    through it (fitted Croatian letters had forearms 11 cm inside the trunk).
    """
    on_limb, on_body = closest_between_segments(
        limbs[:, :, None, 0], limbs[:, :, None, 1], bodies[:, None, :, 0], bodies[:, None, :, 1])
    # sqrt with a floor: the norm's gradient at a zero gap would be NaN
    distance = (((on_limb - on_body) ** 2).sum(-1) + 1e-12).sqrt()
    depth = limb_radii[None, :, None] + body_radii[None, None, :] - distance
    return ((torch.relu(depth) / width) ** 2).sum()


def reader_term(euler: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared distance (radians^2) of the masked Euler angles from the hand reader's
    guess: ``euler``, ``target`` (F, E, 3); ``mask`` (F, E) 1 where pulled, else 0."""
    return (mask[..., None] * (euler - target) ** 2).sum()
