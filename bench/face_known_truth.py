"""Benchmark: the face fitter against known truth (issue 15).

    python bench/face_known_truth.py

Renders the default avatar with known ARKit weights and head rotations (neutral, smile,
brows up, mouth open, puffed cheeks, blink, head tilt, turn and nod, a smile with a
tilt), 640 x 640 through the "face" camera widened 1.3x, reads each with MediaPipe Face
Mesh (refined, static image), and fits them as one clip with ``fit_face`` (x and y:
depth from the model, as for a video; the image's centre and size given, its view angle
found by the fit). Per case it prints the mean absolute weight error
over the shapes the fitter can see (``FaceModel.visible``), the weights that were set
and what came back, and the head's angle error. Targets: mean error <= 0.1, head
within 5 degrees.
Last line: ``face_weight_error: <mean over the cases> (visible shapes)``.
"""
from __future__ import annotations

import os
import time

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body import default_avatar
from engine.body.skeleton import JOINT_INDEX
from engine.export.render import VIEW_ANGLE_DEG
from engine.face.fitting import ImageFrame, face_model, fit_face
from engine.motion import FACE_BLENDSHAPE_INDEX, FACE_BLENDSHAPE_NAMES, Motion

CASES = {
    "neutral": ({}, (0, 0, 0)),
    "smile": ({"mouthSmileLeft": 0.8, "mouthSmileRight": 0.8}, (0, 0, 0)),
    "brows up": ({"browInnerUp": 0.8, "browOuterUpLeft": 0.8, "browOuterUpRight": 0.8}, (0, 0, 0)),
    "mouth open": ({"jawOpen": 0.7}, (0, 0, 0)),
    "cheeks puffed": ({"cheekPuff": 0.8}, (0, 0, 0)),
    "blink": ({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}, (0, 0, 0)),
    "head tilt 15": ({}, (0, 0, 15)),
    "head turn 20": ({}, (0, 20, 0)),
    "head nod 12": ({}, (12, 0, 0)),
    "smile, tilt -10": ({"mouthSmileLeft": 0.6, "mouthSmileRight": 0.6}, (0, 0, -10)),
}


def main() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from engine.export.render import OffscreenRenderer, camera_view

    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    avatar = default_avatar()
    points, truths = [], []
    with OffscreenRenderer(avatar, 640, 640) as renderer, mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True) as mesh:
        focus, _, height = camera_view("face", avatar.forward(Motion.zeros(1)).joints, 1.0)
        renderer.look_at(focus, (0.0, 0.0, 1.0), 1.3 * height)
        for weights, euler in CASES.values():
            face = np.zeros((1, 52), np.float32)
            for name, value in weights.items():
                face[0, FACE_BLENDSHAPE_INDEX[name]] = value
            body = np.zeros((1, 21, 3), np.float32)
            turn = Rotation.from_euler("xyz", euler, degrees=True)
            body[0, JOINT_INDEX["head"] - 1] = turn.as_rotvec()
            motion = Motion.zeros(1).replace(face_blendshapes=face, body_pose=body)
            found = mesh.process(renderer.render(avatar.forward(motion).vertices[0]))
            marks = np.array([[m.x, m.y, m.z] for m in found.multi_face_landmarks[0].landmark])
            points.append(np.stack([marks[:, 0], -marks[:, 1], -marks[:, 2]], -1))
            truths.append((face[0], turn))
    points = np.array(points)
    model = face_model()
    hidden = [n for n, v in zip(FACE_BLENDSHAPE_NAMES, model.visible) if not v]
    print(f"shapes the fitter can see: {int(model.visible.sum())} of 52; not: {', '.join(hidden)}")
    start = time.perf_counter()
    # The image's centre and height in the landmarks' units (x right, y up, image
    # heights); its view angle (30 degrees) is left for the fit to find, as for a video.
    image = ImageFrame(centre=(0.5, -0.5), height=1.0)
    fit = fit_face(points, np.ones(points.shape[:2]), fps=25.0, use_z=False, image=image)
    print(f"fit: {1000 * (time.perf_counter() - start) / len(points):.1f} ms a frame, view "
          f"angle found: {fit.view_angle:g} deg (rendered at {VIEW_ANGLE_DEG:g})")
    errors, angles = [], []
    for index, (name, (weights, _)) in enumerate(CASES.items()):
        truth, turn = truths[index]
        error = float(np.abs(fit.weights[index] - truth)[model.visible].mean())
        angle = float(np.degrees((turn.inv() * Rotation.from_rotvec(fit.head[index])).magnitude()))
        errors.append(error)
        angles.append(angle)
        asked = ", ".join(f"{k} {fit.weights[index][FACE_BLENDSHAPE_INDEX[k]]:.2f}/{v:g}"
                          for k, v in weights.items())
        top = np.argsort(-fit.weights[index])[:2]
        extra = ", ".join(f"{FACE_BLENDSHAPE_NAMES[k]} {fit.weights[index][k]:.2f}" for k in top
                          if FACE_BLENDSHAPE_NAMES[k] not in weights and fit.weights[index][k] > 0.2)
        print(f"{name:16s} error {error:.3f}  head {angle:4.1f} deg  set: {asked or '-'}"
              f"{'  also: ' + extra if extra else ''}")
    # Per shape: the error where the shape was set, and over every case.
    asked = sorted({k for weights, _ in CASES.values() for k in weights},
                   key=FACE_BLENDSHAPE_INDEX.get)
    truth = np.array([t[0] for t in truths])
    per_shape = np.abs(fit.weights - truth).mean(axis=0)
    for name in asked:
        k = FACE_BLENDSHAPE_INDEX[name]
        where = truth[:, k] > 0
        print(f"  {name:18s} where set {np.abs(fit.weights[where, k] - truth[where, k]).mean():.2f}"
              f"  over all cases {per_shape[k]:.3f}{'' if model.visible[k] else '  (not fitted)'}")
    worst = [k for k in np.argsort(-per_shape) if FACE_BLENDSHAPE_NAMES[k] not in asked][:4]
    print("  most spurious: " + ", ".join(f"{FACE_BLENDSHAPE_NAMES[k]} {per_shape[k]:.3f}"
                                         for k in worst))
    print(f"within targets: weights {sum(e <= 0.1 for e in errors)}/{len(errors)} cases, "
          f"head {sum(a <= 5 for a in angles)}/{len(angles)}")
    print(f"face_weight_error: {np.mean(errors):.3f} (visible shapes)")


if __name__ == "__main__":
    main()
