"""Benchmark: export a 10 s, 30 fps, 1280x720 MP4 of the avatar signing.

The clip chains the reference poses (arms down, then the right hand's fist, index
point, V and flat hand, and back) with slerp transitions, so arms and fingers move on
most frames. Prints the time per stage, then as its last line
``export_video: <frames per second> frames/s`` (rendered and encoded frames per
second of wall time, end to end, including renderer set-up and the final flush).

    python bench/export_video.py [--anti-aliasing none|msaa|ssaa] [--size 1280x720]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.body import default_avatar
from engine.body.reference_poses import arms_down, reference_poses
from engine.export.video import VideoTimings, export_video
from engine.motion import Motion
from engine.motion.interpolate import chain


def signing_clip(seconds: float = 10.0, fps: float = 30.0):
    """A Motion of ``seconds`` at ``fps``: reference poses held and blended."""
    poses = reference_poses()
    down = arms_down(poses["rest_t_pose"])
    shapes = ["right_fist", "right_index_point", "right_asl_v", "right_flat"]
    sequence = [down] + [poses[name] for name in shapes] + [down]
    hold, transition = 12, 36
    once = chain(sequence, hold, transition)
    frames = int(round(seconds * fps))
    repeats = -(-frames // once.num_frames)
    return Motion.concatenate([once] * repeats).slice(0, frames).replace(fps=fps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anti-aliasing", default="none", choices=["none", "msaa", "ssaa"])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep", help="also copy the MP4 here")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    motion = signing_clip(args.seconds)
    default_avatar()  # load the asset outside the timed export
    timings = VideoTimings()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bench.mp4"
        export_video(motion, out, width=width, height=height, anti_aliasing=args.anti_aliasing,
                     timings=timings)
        size = out.stat().st_size
        if args.keep:
            os.replace(out, args.keep)
    n = timings.frames
    print(f"clip: {n} frames at {motion.fps:g} fps, {width}x{height}, "
          f"anti-aliasing {args.anti_aliasing}, {size / 1e6:.2f} MB, {os.cpu_count()} CPUs")
    for stage in ("pose", "render", "compose", "encode_wait"):
        seconds = getattr(timings, stage)
        print(f"  {stage:12s} {seconds:7.2f} s  {1000 * seconds / n:6.1f} ms/frame")
    print(f"  {'total':12s} {timings.total:7.2f} s  {1000 * timings.total / n:6.1f} ms/frame")
    print(f"export_video: {n / timings.total:.1f} frames/s")


if __name__ == "__main__":
    main()
