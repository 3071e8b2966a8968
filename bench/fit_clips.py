"""Benchmark and visual check: fit real fingerspelling clips to the default avatar.

Fits ``--per-language`` clips of each of the lexicon's sign languages (the first N in
index order; ASL letters for the renders are added on top) with
``engine.data.fit.fit_keypoints`` on one torch thread, and prints the time per
clip and, per language, the median and 95th percentile of the normalised 2D hand
reprojection error (hand keypoint error / hand size, over all seen hand points of
the language's clips).

With ``--render DIR`` it also renders, for the ASL letters in ``--letters`` (and every
letter of the other languages in ``--render-langs``), the held
frame (the middle frame of the clip) as three panels side by side: the source
2D keypoints of the signing hand (Pillow), the fitted avatar's right hand seen from
the camera's side (front), and the same from three-quarter right, to judge depth.

Run from the repository root: ``python bench/fit_clips.py --render /tmp/fit_renders``.
The LAST line is ``fit_clips: <mean seconds per clip> s``. The machine is shared, so
timings are noisy.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from engine.body.default_avatar import default_avatar
from engine.body.skeleton import JOINT_INDEX
from engine.data.fingerspelling import load_index
from engine.data.fit import DEFAULT_LANDMARKS, LANDMARK_MODELS, fit_keypoints

HAND_EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10),
              (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17),
              (17, 18), (18, 19), (19, 20)]
FINGER_COLOURS = {0: (90, 90, 90), 1: (220, 40, 40), 2: (230, 140, 0), 3: (40, 160, 40),
                  4: (40, 90, 220), 5: (150, 40, 180)}


def _finger_of(point: int) -> int:
    return 0 if point == 0 else (point - 1) // 4 + 1


def draw_keypoints(hand: np.ndarray, conf: np.ndarray, size: int, title: str):
    """(21, 3) hand points (shoulder widths, Y up) -> a size x size PIL image."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    seen = conf > 0
    if seen.any():
        xy = hand[:, :2]
        centre = (xy[seen].max(0) + xy[seen].min(0)) / 2
        extent = max(float((xy[seen].max(0) - xy[seen].min(0)).max()), 1e-3)
        scale = 0.75 * size / extent
        pix = np.stack([size / 2 + (xy[:, 0] - centre[0]) * scale,
                        size / 2 - (xy[:, 1] - centre[1]) * scale], 1)
        for a, b in HAND_EDGES:
            if seen[a] and seen[b]:
                draw.line([tuple(pix[a]), tuple(pix[b])], fill=FINGER_COLOURS[_finger_of(b)], width=3)
        for k in range(21):
            if seen[k]:
                x, y = pix[k]
                draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=FINGER_COLOURS[_finger_of(k)])
    draw.text((6, 6), title, fill=(0, 0, 0))
    return image


def render_letters(index, letters, out_dir: Path, iterations: int,
                   landmarks: str = DEFAULT_LANDMARKS, starts: int = 1, language: str = "ase") -> None:
    from PIL import Image, ImageDraw

    from engine.export.render import OffscreenRenderer

    avatar = default_avatar()
    out_dir.mkdir(parents=True, exist_ok=True)
    size = 360
    hand_ids = [JOINT_INDEX["right_wrist"]] + list(range(JOINT_INDEX["right_index1"], 55))
    with OffscreenRenderer(avatar, size, size) as renderer:
        for letter in letters:
            seq = index.read(index.find(language, letter))
            result = fit_keypoints(seq, iterations=iterations, landmarks=landmarks, starts=starts)
            frame = seq.num_frames // 2
            out = avatar.forward(result.motion, frames=np.array([frame]))
            centre = out.joints[0, hand_ids].mean(0)
            panels = [draw_keypoints(seq.right_hand[frame], seq.confidence["right_hand"][frame], size,
                                     f"{language} {letter}: source keypoints, frame {frame}")]
            for direction, label in (((0.0, 0.0, 1.0), "avatar, camera view"),
                                     ((-0.7, 0.1, 0.7), "avatar, 3/4 right")):
                renderer.look_at(centre, direction, 0.2)
                image = Image.fromarray(renderer.render(out.vertices[0]))
                ImageDraw.Draw(image).text((6, 6), label, fill=(0, 0, 0))
                panels.append(image)
            sheet = Image.new("RGB", (size * len(panels), size), (255, 255, 255))
            for k, panel in enumerate(panels):
                sheet.paste(panel, (k * size, 0))
            q = result.quality
            ImageDraw.Draw(sheet).text(
                (size + 6, size - 18),
                f"hand error median {q['hand_error_median']:.3f}, p95 {q['hand_error_p95']:.3f}",
                fill=(0, 0, 0))
            sheet.save(out_dir / f"{language}_{letter}.png")
            print(f"rendered {out_dir / f'{language}_{letter}.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=2,
                        help="clips per language, the first N in index order (0: all)")
    parser.add_argument("--lang", default=None,
                        help="comma-separated sign languages (default: all), e.g. ase")
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--render", type=Path, default=None)
    parser.add_argument("--letters", default="ABCDEFILORSVWY")
    parser.add_argument("--render-langs", default="ase",
                        help="comma-separated languages to render (ASL: --letters; others: all)")
    parser.add_argument("--landmarks", default=DEFAULT_LANDMARKS, choices=LANDMARK_MODELS,
                        help="the fitter's hand landmark model (engine.data.fit.LANDMARK_MODELS)")
    parser.add_argument("--starts", type=int, default=1, choices=(1, 2),
                        help="starting poses per fit (fit_keypoints(starts=...))")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one clip per core: run two of these to use both cores

    index = load_index()
    languages = index.languages()
    if args.lang:
        wanted = args.lang.split(",")
        unknown = sorted(set(wanted) - set(languages))
        if unknown:
            parser.error(f"--lang: unknown {unknown}; the package has {', '.join(languages)}")
        languages = wanted
    chosen = []
    for lang in languages:
        chosen += index.for_language(lang)[: args.per_language or None]
    errors: dict[str, list[float]] = defaultdict(list)
    clips: dict[str, int] = defaultdict(int)
    times = []
    frames = 0
    for entry in chosen:
        seq = index.read(entry)
        started = time.perf_counter()
        result = fit_keypoints(seq, iterations=args.iterations, landmarks=args.landmarks,
                               starts=args.starts)
        times.append(time.perf_counter() - started)
        frames += seq.num_frames
        q = result.quality
        print(f"{entry.signed_language} {entry.glosses:>4}: {seq.num_frames:3d} frames "
              f"{times[-1]:5.2f} s  hand error median {q['hand_error_median']:.3f} "
              f"p95 {q['hand_error_p95']:.3f}  hand scale {q['hand_scale']:.2f}"
              f"  start {q['start']:.0f}/{q['starts']:.0f}")
        point_errors = result.hand_point_errors
        errors[entry.signed_language].extend(point_errors[np.isfinite(point_errors)].tolist())
        clips[entry.signed_language] += 1
    print("\nnormalised hand error (per seen hand point, in hand sizes)")
    print("language  clips  median    p95")
    for lang, values in sorted(errors.items()):
        arr = np.array(values)
        print(f"{lang:8s}  {clips[lang]:5d}  {np.median(arr):6.3f}  {np.percentile(arr, 95):6.3f}")
    if errors:
        every = np.concatenate([np.array(v) for v in errors.values()])
        print(f"{'all':8s}  {sum(clips.values()):5d}  {np.median(every):6.3f}  "
              f"{np.percentile(every, 95):6.3f}")
    if args.render is not None:
        for language in args.render_langs.split(","):
            letters = (args.letters if language == "ase" else
                       list(dict.fromkeys(e.glosses for e in index.for_language(language))))
            render_letters(index, letters, args.render, args.iterations, args.landmarks,
                           args.starts, language)
    if times:
        print(f"clips: {len(times)}, frames {frames}, {sum(times):.1f} s in all, "
              f"{sum(times) / frames * 1000:.0f} ms per frame")
        print(f"fit_clips: {np.mean(times):.2f} s")


if __name__ == "__main__":
    main()
