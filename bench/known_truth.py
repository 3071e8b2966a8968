"""Known-truth check of the whole reconstruction pipeline (issue 3).

    python bench/known_truth.py [--db LEXICON] [--letters ABCDEFILORSVWY]
                                [--landmarks joints,calibrated]

For each ASL letter, the truth is a pose whose meaning we know: the steadiest frame of
that letter's lexicon entry. Caveat: those entries were themselves fitted, by the
fitter of the day, so a fitter change that alters how letters are shaped (e.g. the
hand-pose prior) is measured against the old fitter's shapes; rebuild the lexicon
(bench/lexicon_build.py) to measure a fitter against its own. The avatar is rendered
in it (front camera, 640x640, 6 identical frames as a video), MediaPipe Holistic reads the video, and the fitter
reconstructs it. We report the mean geodesic angle (degrees) between the truth and the
reconstruction at each of the 15 right-hand finger joints, per letter and overall.
Last line: ``known_truth: <mean finger-joint error> deg`` (of the first landmark model).
``--landmarks`` fits the same MediaPipe readings with each of the fitter's landmark
models (``engine.data.fitting.LANDMARK_MODELS``; default both, the fitter's default
"joints" first) so
a before/after comparison shares one set of renders and readings.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run without installing

from engine.body import default_avatar  # noqa: E402
from engine.body.tips import hand_points  # noqa: E402
from engine.data.fitting import LANDMARK_MODELS, fit_keypoints  # noqa: E402
from engine.data.lexicon import LexiconStore  # noqa: E402
from engine.data.video_import import read_video_keypoints  # noqa: E402
from engine.export.render import OffscreenRenderer  # noqa: E402
from engine.generate.image_match import steadiest_frame  # noqa: E402
from engine.motion import Motion  # noqa: E402

FINGER_JOINTS = [f"{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)]


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle between axis-angle arrays (..., 3), degrees."""
    relative = Rotation.from_rotvec(a.reshape(-1, 3)).inv() * Rotation.from_rotvec(b.reshape(-1, 3))
    return np.degrees(relative.magnitude()).reshape(a.shape[:-1])


def main() -> None:
    import imageio.v3 as iio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--letters", default="ABCDEFILORSVWY")
    parser.add_argument("--renders", help="folder for truth | reconstruction PNGs")
    parser.add_argument("--landmarks", default=",".join(LANDMARK_MODELS),
                        help="comma-separated landmark models to fit with (first one rendered)")
    args = parser.parse_args()
    models = args.landmarks.split(",")
    for model in models:
        if model not in LANDMARK_MODELS:
            parser.error(f"--landmarks: {model!r} is not one of {LANDMARK_MODELS}")
    os.environ.setdefault("GLOG_minloglevel", "2")
    avatar = default_avatar()
    rows = {model: [] for model in models}
    with LexiconStore(args.db) as store, tempfile.TemporaryDirectory() as tmp, \
            OffscreenRenderer(avatar, 640, 640) as renderer:
        for letter in args.letters:
            (summary,) = store.find_gloss("ase", letter)[:1]
            motion = store.get(summary.id).motion
            frame = steadiest_frame(hand_points(avatar, motion, "right"))
            truth = Motion.concatenate([motion.frame(frame)] * 6)
            posed = avatar.forward(truth)
            renderer.set_camera("front", posed.joints)
            video = Path(tmp) / f"{letter}.mp4"
            images = np.stack([renderer.render(v) for v in posed.vertices])
            iio.imwrite(video, images, fps=25, codec="libx264", plugin="pyav")
            sequence = read_video_keypoints(video)
            if not (sequence.confidence["right_hand"] > 0).any():
                print(f"{letter}: MediaPipe found no right hand in the render")
                continue
            for model in models:
                fits = fit_keypoints(sequence, landmarks=model).motion
                error = angle_deg(truth.right_hand_pose, fits.right_hand_pose).mean(axis=0)
                rows[model].append(error)
                print(f"{letter} [{model}]: mean {error.mean():5.1f} deg, worst "
                      f"{FINGER_JOINTS[int(error.argmax())]} {error.max():5.1f} deg", flush=True)
                if model == models[0]:
                    fitted = fits
            if args.renders:
                out = Path(args.renders)
                out.mkdir(parents=True, exist_ok=True)
                fitted_posed = avatar.forward(fitted.frame(3))
                renderer.set_camera("hands", posed.joints)
                left = renderer.render(posed.vertices[0])
                right = renderer.render(fitted_posed.vertices[0])
                iio.imwrite(out / f"{letter}.png", np.concatenate([left, right], axis=1))
    for model in reversed(models):
        table = np.array(rows[model])
        print(f"[{model}] per joint (deg): " + ", ".join(
            f"{name} {value:.1f}" for name, value in zip(FINGER_JOINTS, table.mean(axis=0))))
        print(f"[{model}] per letter (deg): " + ", ".join(
            f"{letter} {value:.1f}" for letter, value in zip(args.letters, table.mean(axis=1))))
        print(f"[{model}] mean {table.mean():.1f} deg")
    print(f"known_truth: {np.array(rows[models[0]]).mean():.1f} deg")


if __name__ == "__main__":
    sys.exit(main())
