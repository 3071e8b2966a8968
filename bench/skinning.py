"""Benchmark: pose 300 frames of the default avatar (LBS in numpy).

    python bench/skinning.py

Prints per-run timings and, last, ``skinning: <frames per second> frames/s``.
Target (issue 2): >= 1,000 frames/s on 2 CPU cores.
"""
from __future__ import annotations

import os
import time

import numpy as np

from engine.body import default_avatar
from engine.motion import Motion

FRAMES = 300
RUNS = 5


def main() -> None:
    rng = np.random.default_rng(0)
    avatar = default_avatar()
    motion = Motion.zeros(FRAMES)
    motion = motion.replace(**{
        name: rng.uniform(-0.5, 0.5, value.shape).astype(np.float32)
        for name, value in motion.frame_arrays().items()
        if name not in ("face_blendshapes", "expression")
    }, face_blendshapes=rng.uniform(0, 1, motion.face_blendshapes.shape).astype(np.float32))
    avatar.forward(motion.slice(0, 10))  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        avatar.forward(motion)
        times.append(time.perf_counter() - start)
        print(f"{FRAMES} frames in {times[-1] * 1000:.1f} ms")
    best = min(times)
    print(f"vertices: {avatar.num_vertices}, cores: {os.cpu_count()}, best of {RUNS}")
    print(f"skinning: {FRAMES / best:.0f} frames/s")


if __name__ == "__main__":
    main()
