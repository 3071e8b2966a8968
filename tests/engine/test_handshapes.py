"""The handshape inventory: every shape the DSGS data writes has its fingers where its
definition says, within anatomical ranges, measured on the default avatar's hand."""
from __future__ import annotations

import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.reference_poses import mirror_hand_pose
from engine.notation.dsgs import notation_entries
from engine.notation.hamnosys import Handshape, NotationError, parse_sign
from engine.notation.handshapes import (
    DIP_RANGE, MCP_RANGE, PIP_RANGE, SPREAD_LIMIT, THUMB_LIMIT, HandGeometry, UnsupportedHandshape,
    finger_points, hand_pose, handshape_from_names,
)

INDEX, MIDDLE, PINKY, RING, THUMB = range(5)  # SMPL-X hand order
FOUR = (INDEX, MIDDLE, RING, PINKY)


@pytest.fixture(scope="module")
def geometry() -> HandGeometry:
    return HandGeometry.of(default_avatar())


def points(names: str, geometry: HandGeometry) -> np.ndarray:
    return finger_points(geometry, hand_pose(handshape_from_names(names)))


def _data_shapes() -> set[Handshape]:
    shapes = set()
    for entry in notation_entries():
        for text in entry.hamnosys:
            try:
                sign = parse_sign(text)
            except NotationError:
                continue
            for part in sign.parts:
                for hand in (part.dominant, part.nondominant):
                    if hand is not None and hand.handshape is not None:
                        shapes.add(hand.handshape)
    return shapes


@pytest.mark.slow
def test_every_data_shape_is_made_within_anatomical_ranges():
    made = unsupported = 0
    for shape in _data_shapes():
        try:
            pose = hand_pose(shape)
        except UnsupportedHandshape:
            unsupported += 1
            continue
        made += 1
        for finger in FOUR:
            mcp, pip, dip = pose[3 * finger:3 * finger + 3, 2]
            assert MCP_RANGE[0] <= mcp <= MCP_RANGE[1], shape
            assert PIP_RANGE[0] <= pip <= PIP_RANGE[1], shape
            assert DIP_RANGE[0] <= dip <= DIP_RANGE[1], shape
            assert abs(pose[3 * finger, 1]) <= SPREAD_LIMIT, shape
            # flexion only: no twist about the finger, no sideways bend in the distal joints
            assert np.allclose(pose[3 * finger:3 * finger + 3, 0], 0.0)
        assert np.all(np.linalg.norm(pose[12:15], axis=1) <= THUMB_LIMIT + 1e-6), shape
    assert made >= 140 and unsupported <= 2  # 145 distinct shapes in the data; 144 made


def test_fist_closes_every_fingertip_onto_the_palm(geometry):
    tips = points("fist", geometry)[list(FOUR), 3]
    bases = geometry.joints[[3 * f for f in FOUR]]
    # inside the palm's outline: between the wrist and the knuckles, across the four
    # finger bases, and no further from the palm plane than a curled finger's thickness
    assert np.all(tips[:, 0] < 0.0) and np.all(tips[:, 0] > bases[:, 0].min() - 0.005)
    assert np.all(tips[:, 2] <= bases[:, 2].max() + 0.01)
    assert np.all(tips[:, 2] >= bases[:, 2].min() - 0.01)
    assert np.all(tips[:, 1] < 0.0) and np.all(tips[:, 1] > -0.045)  # palm side, near it


def test_flat_hand_has_straight_fingers_together(geometry):
    chain = points("flathand", geometry)
    for finger in FOUR:
        along = chain[finger, 3] - chain[finger, 0]
        angle = np.degrees(np.arccos(-along[0] / np.linalg.norm(along)))
        assert angle < 6.0  # straight out along the hand
    tips = chain[list(FOUR), 3]
    assert np.ptp(tips[:, 2]) < 0.075  # together: no wider than the knuckles (~6 cm)


def test_spread_fingers_fan_out(geometry):
    together = points("flathand", geometry)[list(FOUR), 3, 2]
    spread = points("finger2345", geometry)[list(FOUR), 3, 2]
    assert np.ptp(spread) > np.ptp(together) + 0.02


@pytest.mark.parametrize("names", ["pinch12", "pinch12open", "pinch12 fingerpad"])
def test_pinch_puts_the_thumb_tip_on_the_index_tip(names, geometry):
    chain = points(names, geometry)
    assert np.linalg.norm(chain[THUMB, 3] - chain[INDEX, 3]) < 0.02


def test_open_pinch_keeps_the_other_fingers_straight(geometry):
    pose = hand_pose(handshape_from_names("pinch12open"))
    for finger in (MIDDLE, RING, PINKY):
        assert np.allclose(pose[3 * finger:3 * finger + 3, 2], 0.0)  # unbent (may spread)


@pytest.mark.parametrize("names,low,high", [("cee12", 0.025, 0.06), ("cee12 thumbopenmod",
                                                                       0.04, 0.08)])
def test_cee_holds_the_thumb_a_gap_from_the_index_tip(names, low, high, geometry):
    chain = points(names, geometry)
    assert low < np.linalg.norm(chain[THUMB, 3] - chain[INDEX, 3]) < high


def test_fist_thumb_across_lies_on_the_curled_fingers(geometry):
    chain = points("fist thumbacrossmod", geometry)
    middles = np.mean([(chain[f, 1] + chain[f, 2]) / 2 for f in (INDEX, MIDDLE)], axis=0)
    assert np.linalg.norm(chain[THUMB, 3] - middles) < 0.025


def test_thumb_out_stretches_away_from_the_index(geometry):
    out = points("fist thumboutmod", geometry)
    alongside = points("fist", geometry)
    assert out[THUMB, 3, 2] > alongside[THUMB, 3, 2] + 0.02  # further to the thumb side


def test_finger_selection_extends_the_named_finger(geometry):
    pose = hand_pose(handshape_from_names("finger2 pinky"))
    assert np.allclose(pose[3 * PINKY:3 * PINKY + 3], 0.0)       # the little finger is up
    assert pose[3 * INDEX, 2] > 1.0                               # the index is closed


def test_bending_applies_to_the_selected_fingers():
    pose = hand_pose(handshape_from_names("flathand fingerbendmod"))
    for finger in FOUR:
        assert pose[3 * finger, 2] > 1.2 and abs(pose[3 * finger + 1, 2]) < 0.1
    hooked = hand_pose(handshape_from_names("finger2 fingerhookmod"))
    assert abs(hooked[3 * INDEX, 2]) < 0.1 and hooked[3 * INDEX + 1, 2] > 1.2


def test_between_is_half_way():
    fist = hand_pose(handshape_from_names("fist"))
    flat = hand_pose(handshape_from_names("flathand"))
    between = hand_pose(handshape_from_names("fist between flathand"))
    assert np.allclose(between[:12], (fist[:12] + flat[:12]) / 2, atol=1e-6)


def test_left_hand_is_the_mirror_image():
    shape = handshape_from_names("finger23spread thumbacrossmod")
    assert np.allclose(hand_pose(shape, "left"), mirror_hand_pose(hand_pose(shape, "right")))


def test_a_shape_it_cannot_make_is_named():
    with pytest.raises(UnsupportedHandshape, match="finger part fingernail"):
        hand_pose(handshape_from_names("finger23 indexfinger fingernail middlefinger"))
