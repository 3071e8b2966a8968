"""Off-screen rendering (EGL): real pictures of the avatar, checked against goldens."""
import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.reference_poses import reference_poses
from engine.body.skeleton import JOINT_INDEX
from engine.motion import Motion

pytestmark = pytest.mark.gl
GOLDEN = Path(__file__).resolve().parent.parent / "golden"


@pytest.fixture(scope="module")
def renderer():
    from engine.export.render import OffscreenRenderer
    try:
        r = OffscreenRenderer(default_avatar(), 160, 160)
    except Exception as error:  # no EGL/GL on this machine
        pytest.skip(f"no off-screen OpenGL context: {error}")
    yield r
    r.close()


def _render(renderer, pose: Motion, camera="front"):
    posed = default_avatar().forward(pose)
    renderer.set_camera(camera, posed.joints)
    return renderer.render(posed.vertices[0])


def _compare_to_golden(image, name, tmp_path):
    """Mean absolute difference < 2 grey levels; on failure keep the image and a diff."""
    golden_path = GOLDEN / f"{name}.png"
    if os.environ.get("SIGNSTUDIO_UPDATE_GOLDEN"):
        iio.imwrite(golden_path, image)
    golden = iio.imread(golden_path)
    difference = np.abs(image.astype(np.int16) - golden.astype(np.int16))
    if difference.mean() >= 2.0:
        iio.imwrite(tmp_path / f"{name}.actual.png", image)
        iio.imwrite(tmp_path / f"{name}.diff.png", np.clip(difference * 4, 0, 255).astype(np.uint8))
        pytest.fail(f"{name}: mean difference {difference.mean():.2f} vs the golden; "
                    f"see {tmp_path}")


def test_rest_pose_matches_golden(renderer, tmp_path):
    image = _render(renderer, Motion.zeros(1))
    assert image.shape == (160, 160, 3) and image.dtype == np.uint8
    _compare_to_golden(image, "rest_front", tmp_path)


def test_fist_close_up_matches_golden(renderer, tmp_path):
    posed = default_avatar().forward(reference_poses()["right_fist"])
    renderer.look_at(posed.joints[0, JOINT_INDEX["right_wrist"]] + [-0.05, 0, 0],
                     (0.0, 0.0, 1.0), 0.25)
    _compare_to_golden(renderer.render(posed.vertices[0]), "right_fist_hands", tmp_path)


def test_the_avatar_is_in_the_picture_and_on_the_correct_side(renderer):
    # Raise only the LEFT arm: in a front view (camera at +Z) the subject's left is on
    # the image's right, so the right half of the picture changes and the left does not.
    rest = _render(renderer, Motion.zeros(1))
    body = np.zeros((1, 21, 3), np.float32)
    body[0, JOINT_INDEX["left_shoulder"] - 1, 2] = 1.0  # +Z about the left shoulder: arm up
    raised = _render(renderer, Motion.zeros(1).replace(body_pose=body))
    changed = np.abs(raised.astype(int) - rest).sum(axis=2) > 30
    assert (rest < 250).any(axis=2).mean() > 0.1  # the avatar covers the view
    assert changed[:, 90:].sum() > 20 * changed[:, :70].sum() + 50


def test_exported_frames_are_plain_rgb_pngs(renderer, tmp_path):
    image = _render(renderer, reference_poses()["right_asl_v"], "hands")
    iio.imwrite(tmp_path / "v.png", image)
    assert iio.imread(tmp_path / "v.png").shape == (160, 160, 3)


def test_supersampling_keeps_one_edge_out_of_the_other(renderer):
    """A close-up that cuts the body at its right edge leaves the left edge background
    (VTK's SSAA pass once wrapped the last column into the first: a grey line), and
    frames the picture exactly as rendering without anti-aliasing does."""
    from engine.body.reference_poses import signing_pose
    from engine.export.render import OffscreenRenderer

    posed = default_avatar().forward(signing_pose("asl_v"))

    def foreground(image, threshold=6):
        """(H, W) bool: pixels off the white background by more than ``threshold``
        (summed over RGB; the skin is ~300 off, a half-covered outline pixel ~150)."""
        return np.abs(image.astype(int) - 255).sum(axis=2) > threshold

    with OffscreenRenderer(default_avatar(), 160, 120, anti_aliasing="none") as plain:
        plain.set_camera("hands", posed.joints)
        sharp = foreground(plain.render(posed.vertices[0]), 150)
    with OffscreenRenderer(default_avatar(), 160, 120) as supersampled:
        supersampled.set_camera("hands", posed.joints)
        image = supersampled.render(posed.vertices[0])
    assert image.shape == (120, 160, 3)
    edges = foreground(image)
    assert edges[:, -1].sum() > 20 and not edges[:, 0].any()
    # Same framing: the silhouette has the same area and sits at the same place.
    edges = foreground(image, 150)
    assert abs(edges.sum() / sharp.sum() - 1) < 0.03
    for axis in (0, 1):
        assert abs(np.nonzero(edges)[axis].mean() - np.nonzero(sharp)[axis].mean()) < 0.5
