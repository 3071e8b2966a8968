"""Render the default avatar in the reference poses, for a person to check by eye.

    python tools/render_reference_poses.py --out renders/reference

For each pose (rest T-pose, arms down, right fist, right flat, right index pointing,
ASL V) it writes one PNG with three views: the upper body from the front, the right
hand from the front, and the right hand from above. Look for: fingers bending toward
the palm, the thumb on the index side (forward, +Z, for a palm-down hand), no mirrored
hands, no tearing at wrists or knuckles. Uses EGL off-screen, no display needed.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from engine.body import load_body_model
from engine.body.reference_poses import reference_poses
from engine.body.skeleton import JOINT_INDEX
from engine.export.render import OffscreenRenderer

VIEW_SIZE = 480


def render_pose_sheet(renderer: OffscreenRenderer, body, pose) -> np.ndarray:
    posed = body.forward(pose)
    vertices, joints = posed.vertices[0], posed.joints[0]
    hand = joints[[JOINT_INDEX["right_wrist"], JOINT_INDEX["right_middle1"]]].mean(axis=0)
    views = []
    renderer.set_camera("front", joints)
    views.append(renderer.render(vertices))
    renderer.look_at(hand, (0.0, 0.0, 1.0), 0.28)
    views.append(renderer.render(vertices))
    renderer.look_at(hand, (0.0, 1.0, 0.0), 0.28, up=(0.0, 0.0, -1.0))
    views.append(renderer.render(vertices))
    return np.concatenate(views, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="renders/reference")
    parser.add_argument("--avatar", default="default", choices=["default", "smplx"])
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    body = load_body_model(args.avatar)
    with OffscreenRenderer(body, VIEW_SIZE, VIEW_SIZE) as renderer:
        for name, pose in reference_poses().items():
            path = out / f"{name}.png"
            iio.imwrite(path, render_pose_sheet(renderer, body, pose))
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
