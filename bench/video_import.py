"""Benchmark: video -> MediaPipe Holistic keypoints (the video-import step before fitting).

    python bench/video_import.py

Renders a 4 s, 640x480, 25 fps clip of the default avatar, then times
``read_video_keypoints`` on it (model load included, reported apart).
Last line: ``video_import: <frames per second> frames/s``. Target: >= 15 on 2 cores.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engine.test_video_import import render_avatar_video

FRAMES = 100


def main() -> None:
    from engine.data.video_import import read_video_keypoints

    with tempfile.TemporaryDirectory() as tmp:
        video = render_avatar_video(Path(tmp) / "clip.mp4", frames=FRAMES, size=480)
        start = time.perf_counter()
        read_video_keypoints(video)
        total = time.perf_counter() - start
    print(f"{FRAMES} frames in {total:.2f} s (includes ~1 s of model loading)")
    print(f"video_import: {FRAMES / total:.1f} frames/s")


if __name__ == "__main__":
    main()
