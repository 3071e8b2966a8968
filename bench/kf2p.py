"""Benchmark: keyframe-to-pose regeneration of a 300-frame range, per backend.

Builds a 600-frame motion at 30 fps (every scalar a sum of two sines: smooth, with
joint angles up to ~1 rad), pins every channel with a keyframe every 30 frames, and
regenerates frames [150, 450) (10 keyframes inside) 20 times per backend after one
warm-up call: the baselines (smooth, slerp) and the learned flow model
(``assets/models/flow_kf2p.pt`` or ``--checkpoint``; its checkpoint's ODE steps,
4 Euler steps for the shipped model, one candidate, ``--threads`` torch threads,
default 1).
Prints the median wall time per backend in milliseconds; then
``kf2p: <median ms of the smooth baseline> ms`` and, as the LAST line,
``kf2p_flow: <median ms of the flow model> ms`` (omitted when no checkpoint exists).

Run from the repository root: ``python bench/kf2p.py [--checkpoint PATH]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from engine.generate import BACKENDS, regenerate
from engine.generate.flow_backend import FlowKF2P, default_checkpoint_path
from engine.motion import Keyframe, Motion

NUM_FRAMES = 600
FRAME_RANGE = (150, 450)
KEY_EVERY = 30
REPEATS = 20


def sine_motion(num_frames: int, seed: int = 0) -> Motion:
    """(F, ...) SMPL-X fields, each scalar a sum of two slow sines (radians / metres)."""
    rng = np.random.default_rng(seed)
    zeros = Motion.zeros(num_frames, fps=30.0)
    t = np.arange(num_frames, dtype=np.float64)[:, None]
    fields = {}
    for name, value in zeros.frame_arrays().items():
        width = int(np.prod(value.shape[1:]))
        wave = sum(
            rng.uniform(0.1, 0.5, width) * np.sin(rng.uniform(0.01, 0.1, width) * t
                                                  + rng.uniform(0, 2 * np.pi, width))
            for _ in range(2)
        )
        if name == "face_blendshapes":
            wave = np.clip(0.5 + 0.5 * wave, 0.0, 1.0)
        fields[name] = wave.reshape(value.shape).astype(np.float32)
    return zeros.replace(**fields)


def _time(backend, motion, keys) -> list[float]:
    regenerate(motion, keys, FRAME_RANGE, backend=backend)  # warm-up (imports, caches)
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        regenerate(motion, keys, FRAME_RANGE, backend=backend)
        times.append((time.perf_counter() - began) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="flow-kf2p checkpoint (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for the flow model (default 1: one "
                             "300-frame sequence gains little from a second thread, and on "
                             "the shared 2-core machine two threads measured slower)")
    args = parser.parse_args()
    motion = sine_motion(NUM_FRAMES)
    # Keyframes pose the motion at frames shifted by 7, so the range really changes.
    keys = [Keyframe(f, motion.frame(f + 7)) for f in range(KEY_EVERY, NUM_FRAMES - 7, KEY_EVERY)]
    inside = sum(FRAME_RANGE[0] <= k.frame < FRAME_RANGE[1] for k in keys)
    print(f"motion: {NUM_FRAMES} frames; range {FRAME_RANGE} ({FRAME_RANGE[1] - FRAME_RANGE[0]} "
          f"frames), {inside} keyframes inside; {REPEATS} repeats")
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPU cores, numpy {np.__version__}")
    medians = {}
    backends = {name: name for name in BACKENDS if name != "flow"}
    flow_path = Path(args.checkpoint) if args.checkpoint else default_checkpoint_path()
    if flow_path.is_file():
        import torch

        torch.set_num_threads(args.threads)
        backends["flow"] = FlowKF2P.from_checkpoint(flow_path)
        print(f"flow: {flow_path}, {backends['flow'].sampling.steps} "
              f"{backends['flow'].sampling.method} steps, {args.threads} torch thread(s)")
    else:
        print(f"flow: no checkpoint at {flow_path}; learned backend not timed")
    for name, backend in backends.items():
        times = _time(backend, motion, keys)
        medians[name] = float(np.median(times))
        print(f"{name:>8}: median {medians[name]:.2f} ms  (min {min(times):.2f}, "
              f"max {max(times):.2f})")
    print(f"kf2p: {medians['smooth']:.2f} ms")
    if "flow" in medians:
        print(f"kf2p_flow: {medians['flow']:.2f} ms")


if __name__ == "__main__":
    main()
