"""Every number the keypoint fitter is tuned by, named and explained once.

Loss weights are in ``FitWeights``; joint ranges and the relaxed pose in the Euler
terms of ``engine.data.fit.skeleton``; the optimiser's schedule and the initial-pose
grid below. How they were measured: docs/fitting.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: SMPL-X hand order of the fingers.
FINGERS = ("index", "middle", "pinky", "ring", "thumb")
#: Long fingers, thumb side first, so that neighbours in the hand are neighbours here.
LONG_FINGERS = ("index", "middle", "ring", "pinky")
SIDES = ("left", "right")
#: Radians per degree.
D = math.pi / 180.0

#: MediaPipe hand point names of each finger, base to tip (MCP, PIP, DIP, TIP; for the
#: thumb CMC, MCP, IP, TIP), matching SMPL-X finger1, finger2, finger3, tip.
MEDIAPIPE_FINGER_POINTS: dict[str, tuple[str, str, str, str]] = {
    "thumb": ("THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP"),
    "index": ("INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP"),
    "middle": ("MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP"),
    "ring": ("RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP"),
    "pinky": ("PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"),
}

# ------------------------------------------------------------------ landmark models
#: How the 21 MediaPipe hand landmarks sit on the skeleton (``FitSkeleton(landmarks=)``):
#: "joints" at the joint centres with the tips at the bone ends; "calibrated" each on a
#: bone at an offset measured by tools/calibrate_landmarks.py. "joints" is the default
#: because it measured better on the known-truth bench and the ASL clips
#: (docs/fitting.md, "Landmark models").
LANDMARK_MODELS = ("joints", "calibrated")
DEFAULT_LANDMARKS = "joints"
#: The calibrated offsets, an embedded asset (``engine.assets.asset_path``).
LANDMARK_OFFSETS_FILE = "mediapipe_hand_offsets.json"

# ------------------------------------------------------------------ joint ranges
# Degrees, (lo, hi) for the three Euler axes in composition order. A range with
# lo == hi locks that axis (pure hinges).
#: Long fingers: (abduction about the palm normal, flexion, twist about the bone) per
#: joint 1 (MCP: slight hyperextension, spread), 2 (PIP) and 3 (DIP, pure flexion).
FINGER_LIMITS = {
    1: ((-20, 20), (-15, 100), (-8, 8)),
    2: ((0, 0), (0, 110), (0, 0)),
    3: ((0, 0), (0, 90), (0, 0)),
}
#: The little finger's MCP spreads further than the others'.
PINKY_MCP_LIMITS = ((-25, 25), (-15, 100), (-8, 8))
#: Thumb: (abduction about its flexion direction, flexion, twist about the bone) for
#: the CMC (saddle joint, wide, with opposition twist), MCP and IP (a hinge with a
#: little hyperextension).
THUMB_LIMITS = {
    1: ((-45, 45), (-35, 75), (-50, 50)),
    2: ((-15, 15), (-15, 80), (-10, 10)),
    3: ((0, 0), (-15, 95), (0, 0)),
}
#: Elbow: (flexion, twist about the forearm, carrying angle).
ELBOW_LIMITS = ((0, 150), (-90, 90), (-10, 10))
#: Wrist: (twist about the forearm, flexion toward the palm, radial/ulnar deviation).
WRIST_LIMITS = ((-90, 90), (-75, 80), (-30, 30))

# ------------------------------------------------------------------ relaxed pose
# The pose prior's mean and the fit's start, in the Euler ranges' terms (degrees).
RELAXED_FINGER = {1: (0.0, 12.0, 0.0), 2: (0.0, 18.0, 0.0), 3: (0.0, 10.0, 0.0)}
RELAXED_THUMB = {1: (0.0, 10.0, 0.0), 2: (0.0, 10.0, 0.0), 3: (0.0, 10.0, 0.0)}
RELAXED_ELBOW = (25.0, 0.0, 0.0)
RELAXED_WRIST = (0.0, 0.0, 0.0)
#: Radians the relaxed upper arms hang below the T-pose (reference_poses uses 1.3).
ARM_DOWN = 1.25
#: Metres the thumb's flexion target lies on the palmar side of the little finger's
#: knuckle: thumb flexion sweeps across the palm toward the hypothenar.
THUMB_FLEXION_TARGET_DEPTH = 0.02

# ------------------------------------------------------------------ hand anatomy
#: Radius of the spheres standing for a finger's volume (metres, before hand scale): a
#: little under the avatar's ~1 cm finger thickness.
FINGER_RADIUS = 0.0075
#: Thumb tip and a finger point closer than this in 2D (hand sizes) are taken to touch
#: (F, O, E, D): the 2D data cannot say, and touching is what such shapes mean.
CONTACT_2D = 0.2
#: The hand-pose prior's means: the DIP flexes about 2/3 as far as the PIP (flexor
#: digitorum profundus and the oblique retinacular ligament tie them; Rijpkema & Girard
#: 1991, Lin, Wu & Huang 2000), and in natural grasps the PIP about as far as the MCP
#: (the avatar's fist reference pose: 83/92/63 degrees at MCP/PIP/DIP).
DIP_PER_PIP = 2.0 / 3.0
PIP_PER_MCP = 1.0
#: The per-clip hand size (the unit of the hand terms) is this percentile over frames
#: of the wrist -> middle MCP distance: high, because a turned palm foreshortens it.
HAND_SIZE_PERCENTILE = 90


@dataclass(frozen=True)
class FitWeights:
    """Loss weights. Data terms are squared distances in shoulder widths (body) or in
    hand sizes (hand points, so hands weigh the same whatever the signer's size); all
    per-frame terms are averaged over frames."""

    body: float = 1.0              # shoulders, elbows, wrists, hips
    head: float = 0.3              # eyes, ears, nose
    hand: float = 1.0              # the 20 finger points of a hand
    hand_wrist: float = 2.0        # the hand's wrist point
    prior_body: float = 2e-3       # per radian^2 away from relaxed: neck, head, shoulders
    prior_spine: float = 5e-2      # the same for the three spine joints
    prior_collar: float = 5e-2     # the same for the collars
    prior_arm_euler: float = 1e-3  # elbow and wrist Euler angles (per radian^2)
    prior_finger: float = 2e-3     # finger Euler angles (per radian^2)
    velocity: float = 2e-2         # per (radian per frame)^2, on the pose parameters
    acceleration: float = 2.0      # per (shoulder width per frame^2)^2, on 3D points
    scale: float = 10.0            # on log(scale)^2 for the camera and bone scales
    offset: float = 0.1            # on the camera offset^2 (shoulder widths)
    collision: float = 20.0        # per (overlap / finger thickness)^2 of hand spheres
    contact: float = 10.0          # per (gap / finger thickness)^2 of 2D-touching tips
    inside_body: float = 100.0     # per (depth / shoulder width)^2 of a forearm capsule
    #                                inside the trunk, neck or head
    # Pull of each seen hand's finger Euler angles toward the learned hand reader's guess
    # (``hand_reader``), per radian^2: 50x the relaxed-pose prior, so it decides what the
    # 2D points leave open (a curl or a bend toward the camera) and the points the rest
    # (docs/fitting.md, "The learned hand reader in the fit").
    reader_pull: float = 0.1
    # Hand-pose prior (``losses.hand_pose_prior``), per radian^2. DIP coupling 0.02 is
    # about what a 0.03 hand-size shift of one fingertip costs the data term, so it
    # decides only what 2D leaves open (docs/fitting.md, "Hand-pose prior").
    couple_dip: float = 0.02       # DIP flexion away from DIP_PER_PIP x PIP
    couple_pip: float = 0.005      # PIP flexion away from PIP_PER_MCP x MCP
    couple_adjacent: float = 0.0   # curl difference between neighbouring fingers (off)


# ------------------------------------------------------------------ optimiser
#: Adam's step size and the default number of steps (all frames at once).
LEARNING_RATE = 0.06
ITERATIONS = 150
#: Linear warm-up over the first 1/WARMUP_DIVISOR of the steps: the initial pose is
#: already close, and Adam's first steps move every parameter by about the full step.
WARMUP_DIVISOR = 10
#: After DECAY_FROM of the steps the rate drops to DECAY_FACTOR, so the fit settles
#: instead of jittering.
DECAY_FROM = 0.7
DECAY_FACTOR = 0.3
#: Progress is reported about this many times per optimisation.
PROGRESS_REPORTS = 20

# ------------------------------------------------------------------ initial pose
#: A body point of the arm counts as seen for the arm's inverse kinematics above these
#: MediaPipe visibilities (an elbow is often guessed off-frame, a wrist less so).
ELBOW_SEEN_CONFIDENCE = 0.3
WRIST_SEEN_CONFIDENCE = 0.5
#: The hand grid (``initial_pose``): forearm twists (evenly over a full turn, half of
#: each applied at the elbow and half at the wrist), wrist flexions (degrees), and the
#: shapes each finger may start in: degrees added to the relaxed pose per joint 1, 2, 3
#: (spread, flexion, twist each; clipped to the ranges), rounded curls of four depths.
GRID_TWISTS = 12
GRID_WRIST_FLEXIONS = (-35.0, 0.0, 35.0)
#: Frames whose grid hypotheses go through one forward kinematics call (memory: about
#: 150 MB with the second grid's 216 hypotheses a frame).
GRID_FRAMES_PER_BATCH = 64
_CURL_DEPTHS = (0.0, 0.35, 0.7, 1.0)
_FULL_CURL = ((0, 85, 0), (0, 100, 0), (0, 70, 0))
_THUMB_CURL = ((0, 30, 0), (0, 45, 0), (0, 60, 0))
GRID_FINGER_SHAPES = tuple(tuple(tuple(depth * a for a in joint) for joint in _FULL_CURL)
                           for depth in _CURL_DEPTHS)
GRID_THUMB_SHAPES = tuple(tuple(tuple(depth * a for a in joint) for joint in _THUMB_CURL)
                          for depth in _CURL_DEPTHS)
#: The second start's grid (``SECOND_START_ERROR``) adds a finger bent at the knuckle
#: only with the rest straight (Q's index pointing down, P's middle finger, a bent flat
#: hand) and one hooked at the two outer joints (E, X), which a curl does not reach by
#: small steps; for the thumb, stretched out and away from the palm, and swung across
#: it at its base with its joints straight. Not in the first grid: there they made more
#: letters worse than better (docs/fitting.md, "More starting shapes").
SECOND_GRID_FINGER_SHAPES = GRID_FINGER_SHAPES + (
    ((0, 78, 0), (0, -18, 0), (0, -10, 0)),
    ((0, -12, 0), (0, 82, 0), (0, 60, 0)),
)
SECOND_GRID_THUMB_SHAPES = GRID_THUMB_SHAPES + (
    ((0, -30, 0), (0, -10, 0), (0, -10, 0)),
    ((0, 50, 0), (0, -10, 0), (0, -10, 0)),
)
#: A clip whose median 2D hand error after the fit is above this (hand sizes; the
#: package letters' median is about 0.09) is fitted a second time from the second grid,
#: and the fit with the lower final loss is kept.
SECOND_START_ERROR = 0.13

#: Settings of speed and reporting, not of the result: a fit is the same bit for bit
#: whatever they are (the grid's batches are tested so), so they stay out of a package
#: clip's source hash (``engine.data.lexicon_build.fitter_numbers_digest``) and changing
#: one does not refit the lexicon. It names itself too: a set's order changes from run
#: to run, and in the digest it would refit every clip on every build.
NOT_IN_RESULT = frozenset({"GRID_FRAMES_PER_BATCH", "PROGRESS_REPORTS", "NOT_IN_RESULT"})
