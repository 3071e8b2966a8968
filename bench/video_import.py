"""Benchmark: video -> MediaPipe Holistic keypoints (the video-import step before fitting),
and what fitting the face from those keypoints adds to it.

    python bench/video_import.py

Renders a 4 s, 640x480, 25 fps clip of the default avatar, then times
``read_video_keypoints`` on it (model load included, reported apart), and
``engine.face.fitting.fit_face`` on the keypoints it read (issue 15's budget: the face
adds at most 25 % to the keypoint step).
Last line: ``video_import: <frames per second> frames/s``. Target: >= 15 on 2 cores.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engine.test_video_import import render_avatar_video

FRAMES = 100


def main() -> None:
    from engine.data.video_import import read_video_keypoints
    from engine.face.fitting import face_model, fit_face

    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        video = render_avatar_video(Path(tmp) / "clip.mp4", frames=FRAMES, size=480)
        start = time.perf_counter()
        sequence = read_video_keypoints(video)
        total = time.perf_counter() - start
    face_model()  # read once per process, like the MediaPipe models
    start = time.perf_counter()
    fit = fit_face(sequence.face, sequence.confidence["face"], sequence.fps,
                   use_z=not sequence.metadata.is_2d, image=sequence.metadata.image_frame())
    face = time.perf_counter() - start
    print(f"{FRAMES} frames in {total:.2f} s (includes ~1 s of model loading)")
    print(f"face fit: {face:.2f} s ({1000 * face / FRAMES:.1f} ms a frame, face on "
          f"{int(fit.found.sum())} frames, view angle found {fit.view_angle} deg), "
          f"{100 * face / total:.0f} % of the keypoint step")
    print(f"video_import: {FRAMES / total:.1f} frames/s")


if __name__ == "__main__":
    main()
