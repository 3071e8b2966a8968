"""Benchmark: how well a recording tells the signer's arm lengths (issue 21), on
recordings of the default avatar, whose lengths are known.

    python bench/arm_lengths.py [--frames 600]

Three readings, each against the avatar's own upper arm and forearm (shoulder widths,
between the landmarks the ``.pose`` export places):
1. MediaPipe Pose's 3D world landmarks, on renders of four poses and over a signing
   recording (median);
2. MediaPipe's 2D image lengths on renders whose arms lie across the picture;
3. ``pgmm_data.hanging_arm_lengths`` (2D, where the arms hang) over the signing
   recording, as ``train pgmm`` measures them.
Last line: ``hanging_arm_error: <largest error of reading 3> %``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: Shoulder turns about z (left, right) and elbow turns about z (left, right), radians:
#: arms hanging out, bent across, bent upward, raised.
POSES = {"hanging out": (-0.6, 0.6, 0.0, 0.0), "elbows bent down": (-0.6, 0.6, 0.9, -0.9),
         "elbows bent up": (-0.9, 0.9, -0.8, 0.8), "raised": (0.4, -0.4, 0.0, 0.0)}


def lengths(points: np.ndarray) -> np.ndarray:
    """(4,) left upper, right upper, left fore, right fore over the shoulder width, from
    (33, D) MediaPipe-ordered points."""
    width = np.linalg.norm(points[11] - points[12])
    pairs = ((11, 13), (12, 14), (13, 15), (14, 16))
    return np.array([np.linalg.norm(points[a] - points[b]) for a, b in pairs]) / width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from bench.photoreal import notation_signing
    from engine.body.default_avatar import default_avatar
    from engine.body.skeleton import JOINT_INDEX as J
    from engine.data.video_import import read_video_keypoints
    from engine.export.pose_file import HolisticRig
    from engine.export.render import OffscreenRenderer
    from engine.learn.pgmm_data import hanging_arm_lengths, sequence_pixels
    from engine.motion.motion import Motion
    from tests.signer_recording import write_signer_video

    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    avatar = default_avatar()
    truth = lengths(HolisticRig(avatar).world_points(Motion.zeros(1))[0][0])
    print(f"the avatar's: upper arm {truth[0]:.3f}, forearm {truth[2]:.3f} shoulder widths")
    print(f"{'reading':44s} {'upper L':>8s} {'upper R':>8s} {'fore L':>8s} {'fore R':>8s}")

    def row(name, values):
        print(f"{name:44s} " + " ".join(f"{v:8.3f}" for v in values))

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose, \
            OffscreenRenderer(avatar, 384, 384, background=(128, 128, 128)) as renderer:
        for name, (left, right, left_elbow, right_elbow) in POSES.items():
            body = np.zeros((1, 21, 3), np.float32)
            body[0, J["left_shoulder"] - 1, 2], body[0, J["right_shoulder"] - 1, 2] = left, right
            body[0, J["left_elbow"] - 1, 2], body[0, J["right_elbow"] - 1, 2] = left_elbow, right_elbow
            posed = avatar.forward(Motion.zeros(1).replace(body_pose=body))
            renderer.set_camera("front", posed.joints)
            found = pose.process(np.ascontiguousarray(renderer.render(posed.vertices[0])[..., :3]))
            if found.pose_landmarks is None:
                print(f"{name}: MediaPipe found no one")
                continue
            image = np.array([[m.x * 384, m.y * 384] for m in found.pose_landmarks.landmark])
            world = np.array([[m.x, m.y, m.z] for m in found.pose_world_landmarks.landmark])
            row(f"3D world landmarks, {name}", lengths(world))
            row(f"2D image, {name}", lengths(image))

    with tempfile.TemporaryDirectory() as folder:
        video = write_signer_video(Path(folder) / "signs.mp4", size=256,
                                   motion=notation_signing(args.frames, seed=1))
        sequence = read_video_keypoints(video)
        with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
            import imageio.v3 as iio

            worlds = [pose.process(np.ascontiguousarray(frame)).pose_world_landmarks
                      for frame in iio.imiter(video, plugin="pyav")]
    medians = np.median([lengths(np.array([[m.x, m.y, m.z] for m in w.landmark]))
                         for w in worlds if w is not None], axis=0)
    row("3D world landmarks, signing recording", medians)
    upper, fore = hanging_arm_lengths(*sequence_pixels(sequence))
    row("2D where the arms hang, signing recording", (upper, upper, fore, fore))
    if upper == 0:
        print("hanging_arm_error: nan %")
        return
    error = max(abs(upper / truth[0] - 1), abs(fore / truth[2] - 1)) * 100
    print(f"hanging_arm_error: {error:.1f} %")


if __name__ == "__main__":
    main()
