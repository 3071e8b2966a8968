"""Render fitted letters beside their source keypoints (issue 3's visual check).

    python tools/render_letters.py [--out /tmp/letters] [--letters ABCDEFILORSVWY] [--lang ase]
                                   [--iterations 150] [--size 360]
                                   [--landmarks calibrated|joints] [--starts 1|2]

For each letter, the real clip of ``--lang`` (default ASL, ase) from the
spoken-to-signed package is read (``engine.data.fingerspelling.load_index``) and fitted
(``fit_keypoints``). One PNG per letter, ``<out>/<lang>_<letter>.png``, shows for the
middle frame of the clip, left to right (the right hand: one-handed alphabets):

1. the source right-hand keypoints in 2D (x to the image's right is the subject's
   left, as a camera in front sees it; thumb red, index orange, middle green, ring
   blue, little finger purple; the wrist black);
2. the fitted avatar's right hand from the front (the "hands" camera preset's
   direction and framing height, aimed at the right hand rather than between both
   wrists, since the left arm hangs far away);
3. the same hand seen from the signer's right and a little above, where the depth that
   2D keypoints cannot give (thumb in front of or beside the fingers, crossed
   fingers) shows.

``<out>/contact_sheet.png`` stacks all letters. Each image is written atomically. The
fit's 2D error (median, in hand sizes) is printed per letter and drawn on the image.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.atomic import atomic_output
from engine.data.keypoints import HAND_INDEX

LETTERS = "ABCDEFILORSVWY"
#: MediaPipe hand chains (wrist first), and the colour each finger is drawn in.
CHAINS = {
    "THUMB": ("WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP"),
    "INDEX": ("WRIST", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP"),
    "MIDDLE": ("MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP"),
    "RING": ("RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP"),
    "PINKY": ("WRIST", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"),
    "PALM": ("INDEX_FINGER_MCP", "MIDDLE_FINGER_MCP", "RING_FINGER_MCP", "PINKY_MCP"),
}
COLOURS = {"THUMB": (220, 40, 40), "INDEX": (240, 150, 20), "MIDDLE": (40, 160, 60),
           "RING": (40, 90, 220), "PINKY": (150, 60, 190), "PALM": (90, 90, 90)}


def draw_keypoints(points: np.ndarray, size: int, title: str):
    """(21, 2) hand points (keypoint frame: +X subject's left, +Y up) -> a PIL image
    ``size`` x ``size`` with the hand scaled to fill 80% of it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    lo, hi = points.min(axis=0), points.max(axis=0)
    scale = 0.8 * size / max(float((hi - lo).max()), 1e-6)
    centre = (lo + hi) / 2

    def pixel(name: str) -> tuple[float, float]:
        x, y = points[HAND_INDEX[name]]
        return (size / 2 + (x - centre[0]) * scale, size / 2 - (y - centre[1]) * scale)

    for finger, chain in CHAINS.items():
        xy = [pixel(name) for name in chain]
        draw.line(xy, fill=COLOURS[finger], width=3)
        for p in xy:
            draw.ellipse([p[0] - 4, p[1] - 4, p[0] + 4, p[1] + 4], fill=COLOURS[finger])
    w = pixel("WRIST")
    draw.ellipse([w[0] - 5, w[1] - 5, w[0] + 5, w[1] + 5], fill=(0, 0, 0))
    draw.text((8, 8), title, fill=(0, 0, 0))
    return image


def render_hand(renderer, avatar, motion, frame: int) -> list[np.ndarray]:
    """Front and side close-ups of the right hand of ``motion`` at ``frame``."""
    from engine.body.skeleton import JOINT_INDEX
    from engine.export.render import CAMERA_PRESETS

    posed = avatar.forward(motion.frame(frame))
    hand_joints = [JOINT_INDEX["right_wrist"]] + [
        JOINT_INDEX[f"right_{f}{k}"] for f in ("index", "middle", "pinky", "ring", "thumb")
        for k in (1, 2, 3)]
    focus = posed.joints[0, hand_joints].mean(axis=0)
    preset = CAMERA_PRESETS["hands"]
    height = preset.height * 0.45  # one hand, not both
    views = []
    for direction in (preset.direction, (-1.0, 0.35, 0.25)):
        renderer.look_at(focus, direction, height)
        views.append(renderer.render(posed.vertices[0]))
    return views


def main(argv: list[str] | None = None) -> int:
    import torch
    from PIL import Image, ImageDraw

    from engine.body import default_avatar
    from engine.data.fingerspelling import load_index
    from engine.data.fit import DEFAULT_LANDMARKS, LANDMARK_MODELS, fit_keypoints
    from engine.export.render import OffscreenRenderer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/letters", type=Path)
    parser.add_argument("--letters", default=LETTERS,
                        help="the letters, one character each, or comma-separated glosses (CH,LL)")
    parser.add_argument("--lang", default="ase",
                        help="the sign language of the package clips (ISO 639-3, default ase)")
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--size", type=int, default=360, help="pixels per panel")
    parser.add_argument("--landmarks", default=DEFAULT_LANDMARKS, choices=LANDMARK_MODELS,
                        help="how the fitter places MediaPipe's hand landmarks on the skeleton")
    parser.add_argument("--starts", type=int, default=1, choices=(1, 2),
                        help="starting poses per fit (fit_keypoints(starts=...))")
    args = parser.parse_args(argv)
    os.environ.setdefault("GLOG_minloglevel", "2")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    index = load_index()
    avatar = default_avatar()
    rows = []
    with OffscreenRenderer(avatar, args.size, args.size) as renderer:
        letters = args.letters.split(",") if "," in args.letters else list(args.letters)
        for letter in letters:
            entry = index.find(args.lang, letter)
            seq = index.read(entry)
            result = fit_keypoints(seq, iterations=args.iterations, landmarks=args.landmarks,
                                   starts=args.starts)
            frame = seq.num_frames // 2
            median = result.quality["hand_error_median"]
            title = f"{args.lang} {letter} ({entry.path}), frame {frame}/{seq.num_frames}"
            panels = [draw_keypoints(seq.right_hand[frame, :, :2], args.size, title)]
            panels += [Image.fromarray(v) for v in render_hand(renderer, avatar, result.motion, frame)]
            row = Image.new("RGB", (args.size * len(panels), args.size), (255, 255, 255))
            for i, panel in enumerate(panels):
                row.paste(panel, (i * args.size, 0))
            ImageDraw.Draw(row).text(
                (args.size + 8, 8), f"fitted: front | side; 2D error median {median:.3f} hand sizes",
                fill=(0, 0, 0))
            with atomic_output(args.out / f"{args.lang}_{letter}.png") as tmp:
                row.save(tmp, format="PNG")
            rows.append(row)
            print(f"{letter}: {seq.num_frames} frames, 2D error median {median:.3f} "
                  f"p95 {result.quality['hand_error_p95']:.3f} hand sizes", flush=True)
    sheet = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), (255, 255, 255))
    for i, row in enumerate(rows):
        sheet.paste(row, (0, i * rows[0].height))
    with atomic_output(args.out / "contact_sheet.png") as tmp:
        sheet.save(tmp, format="PNG")
    print(f"wrote {len(rows)} letters and contact_sheet.png to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
