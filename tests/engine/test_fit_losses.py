"""Each loss term of the keypoint fitter on small tensors: zero where the term is
satisfied, growing as the solution moves away, in the units its docstring gives."""
import math

import pytest
import torch

from engine.data.fit.constants import DIP_PER_PIP, FitWeights
from engine.data.fit.losses import (
    acceleration_term, capsule_ends, collision_term, contact_term, hand_pose_prior,
    inside_body_term, keypoint_term, offset_prior_term, pose_prior_term, scale_prior_term,
    sphere_centres, velocity_term,
)
from engine.data.fit.optimise import learning_rate_factor


def test_keypoint_term_is_zero_at_the_solution_and_quadratic_in_the_offset():
    target = torch.rand(3, 5, 2)
    weight = torch.ones(3, 5)
    assert keypoint_term(target.clone(), target, weight) == 0
    shift = torch.tensor([0.1, 0.0])
    one = keypoint_term(target + shift, target, weight)
    assert one == pytest.approx(3 * 5 * 0.01)
    assert keypoint_term(target + 2 * shift, target, weight) == pytest.approx(4 * float(one))
    # an unseen point (weight 0) costs nothing however far off it is
    weight[:, 0] = 0.0
    far = target.clone()
    far[:, 0] += 100.0
    assert keypoint_term(far, target, weight) == 0


def test_pose_prior_is_zero_at_the_relaxed_pose_and_weighted_per_joint():
    relaxed_rotvec, relaxed_euler = torch.rand(2, 3), torch.rand(3, 3)
    rotvec = relaxed_rotvec.expand(4, -1, -1).clone()
    euler = relaxed_euler.expand(4, -1, -1).clone()
    w_rotvec, w_euler = torch.tensor([1.0, 0.0]), torch.tensor([2.0, 1.0, 1.0])
    assert pose_prior_term(rotvec, relaxed_rotvec, w_rotvec, euler, relaxed_euler, w_euler) == 0
    rotvec[0, 1, 0] += 1.0  # a joint with weight 0
    assert pose_prior_term(rotvec, relaxed_rotvec, w_rotvec, euler, relaxed_euler, w_euler) == 0
    euler[0, 0, 2] += 0.5  # weight 2 per radian^2
    assert float(pose_prior_term(rotvec, relaxed_rotvec, w_rotvec, euler, relaxed_euler,
                                 w_euler)) == pytest.approx(2 * 0.25)


def test_scale_prior_costs_the_same_for_double_and_half_and_offset_prior_is_squared():
    assert scale_prior_term(torch.zeros(3)) == 0
    double = scale_prior_term(torch.tensor([math.log(2.0), 0.0, 0.0]))
    half = scale_prior_term(torch.tensor([math.log(0.5), 0.0, 0.0]))
    assert float(double) == pytest.approx(float(half)) and double > 0
    assert float(offset_prior_term(torch.tensor([0.3, -0.4]))) == pytest.approx(0.25)


def test_velocity_is_zero_for_a_still_pose_and_counts_each_change():
    rotvec, euler = torch.rand(1, 2, 3).expand(5, -1, -1), torch.rand(1, 3, 3).expand(5, -1, -1)
    assert velocity_term(rotvec, euler) == 0
    moved = euler.clone()
    moved[2:, 0, 1] += 0.1  # one step of 0.1 radian between frames 1 and 2
    assert float(velocity_term(rotvec, moved)) == pytest.approx(0.01)


def test_acceleration_is_zero_at_constant_velocity_and_measured_in_shoulder_widths():
    frames = torch.arange(6.0)[:, None, None]
    steady = torch.rand(1, 4, 3) + frames * torch.tensor([0.01, 0.0, 0.0])
    assert float(acceleration_term(steady, width=0.35)) == pytest.approx(0.0, abs=1e-10)
    jolt = steady.clone()
    jolt[3, 0, 1] += 0.035  # one tenth of a shoulder width on one frame
    cost = acceleration_term(jolt, width=0.35)
    # second differences 1, -2, 1 (float32: to 1e-5)
    assert float(cost) == pytest.approx(0.01 * (1 + 4 + 1), rel=1e-5)
    assert float(acceleration_term(jolt, width=0.7)) == pytest.approx(float(cost) / 4, rel=1e-5)


def test_sphere_centres_interpolate_between_their_points():
    points = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 2.0, 0.0]]])
    centres = sphere_centres(points, torch.tensor([0, 0]), torch.tensor([1, 1]),
                             torch.tensor([[0.0], [0.5]]))
    assert torch.equal(centres, torch.tensor([[[0.0, 0.0, 0.0], [0.5, 1.0, 0.0]]]))


def test_collision_is_zero_apart_and_grows_with_the_overlap():
    thickness = torch.tensor(0.015)
    pair_i, pair_j = torch.tensor([0]), torch.tensor([1])

    def cost(gap):
        spheres = torch.tensor([[[0.0, 0.0, 0.0], [gap, 0.0, 0.0]]])
        return float(collision_term(spheres, pair_i, pair_j, thickness))

    assert cost(0.015) == 0 and cost(0.05) == 0
    assert cost(0.0075) == pytest.approx(0.25)  # half a thickness of overlap
    assert cost(0.0) == pytest.approx(1.0) and cost(0.0) > cost(0.0075) > cost(0.012)


def test_contact_pulls_only_masked_pairs_and_only_beyond_touching():
    thickness = torch.tensor(0.015)
    thumb = torch.zeros(1, 2, 3)
    other = torch.tensor([[[0.03, 0.0, 0.0], [0.03, 0.0, 0.0]]])
    assert float(contact_term(thumb, other, torch.tensor([[1.0, 0.0]]), thickness)
                 ) == pytest.approx(1.0)  # one pair a thickness too far
    assert contact_term(thumb, other, torch.zeros(1, 2), thickness) == 0
    touching = torch.tensor([[[0.01, 0.0, 0.0], [0.015, 0.0, 0.0]]])
    assert contact_term(thumb, touching, torch.ones(1, 2), thickness) == 0


def test_hand_pose_prior_on_a_tiny_hand():
    # Euler slots: one finger's MCP, PIP, DIP at 0, 1, 2 (one "hand" of 4 identical
    # fingers, so the neighbour coupling sees equal curls).
    slots = torch.tensor([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]])
    euler = torch.zeros(1, 3, 3)
    euler[0, :, 1] = torch.tensor([0.9, 0.9, 0.9 * DIP_PER_PIP])
    weights = FitWeights(couple_dip=1.0, couple_pip=1.0, couple_adjacent=1.0)
    assert float(hand_pose_prior(euler, slots, weights)) == pytest.approx(0.0, abs=1e-12)
    euler[0, 2, 1] = 0.0  # a straight DIP under a bent PIP
    assert float(hand_pose_prior(euler, slots, weights)) == pytest.approx(4 * 0.6 ** 2)
    assert hand_pose_prior(euler, slots, FitWeights(couple_dip=0.0, couple_pip=0.0)) == 0


def test_learning_rate_warms_up_then_decays():
    factors = [learning_rate_factor(step, 100) for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == 1.0
    assert factors[69] == 1.0
    assert factors[70] == pytest.approx(0.3) and factors[-1] == pytest.approx(0.3)
    assert learning_rate_factor(0, 5) == 1.0  # fewer steps than a warm-up: none


def test_inside_body_term_is_zero_outside_and_quadratic_in_the_depth():
    trunk = torch.tensor([[[[0.0, 0.0, 0.0], [0.0, 0.5, 0.0]]]])  # (F=1, B=1, 2, 3)
    trunk_radius, arm_radius, width = torch.tensor([0.1]), torch.tensor([0.03]), 0.4

    def term(z):  # a forearm across the trunk, its axis ``z`` metres in front
        arm = torch.tensor([[[[-0.2, 0.25, z], [0.2, 0.25, z]]]])
        return float(inside_body_term(arm, arm_radius, trunk, trunk_radius, width))

    assert term(0.14) == 0.0 and term(0.13) == 0.0       # touching is not inside
    assert term(0.11) == pytest.approx((0.02 / width) ** 2, rel=1e-4)
    assert term(0.09) == pytest.approx(4 * term(0.11), rel=1e-4)
    # the gradient takes it out: toward +z
    z = torch.tensor(0.11, requires_grad=True)
    arm = torch.stack([torch.stack([torch.tensor(-0.2), torch.tensor(0.25), z]),
                       torch.stack([torch.tensor(0.2), torch.tensor(0.25), z])])[None, None]
    inside_body_term(arm, arm_radius, trunk, trunk_radius, width).backward()
    assert z.grad < 0


def test_capsule_ends_follow_their_joints_rotation_and_position():
    rotations = torch.eye(3).repeat(1, 2, 1, 1)
    rotations[0, 1] = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    positions = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]])
    joints = torch.tensor([[0, 1]])
    offsets = torch.tensor([[[0.1, 0.0, 0.0], [0.1, 0.0, 0.0]]])
    ends = capsule_ends(rotations, positions, joints, offsets)
    assert torch.allclose(ends[0, 0], torch.tensor([[0.1, 0.0, 0.0], [1.0, 2.1, 3.0]]))
