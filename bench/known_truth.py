"""Known-truth check of the whole reconstruction pipeline (issue 3).

    python bench/known_truth.py [--db LEXICON] [--letters ABCDEFILORSVWY]
                                [--landmarks joints,calibrated]

For each ASL letter, the truth is a pose whose meaning we know: the steadiest frame of
that letter's lexicon entry. Caveat: those entries were themselves fitted, by the
fitter of the day, so a fitter change that alters how letters are shaped (e.g. the
hand-pose prior) is measured against the old fitter's shapes; rebuild the lexicon
(bench/lexicon_build.py) to measure a fitter against its own. The avatar is rendered
in it (front camera, 640x640, 6 identical frames as a video), MediaPipe Holistic reads
the video, and the fitter reconstructs it. We report the mean geodesic angle (degrees)
between the truth and the reconstruction at each of the 15 right-hand finger joints, per
letter and overall.
Last line: ``known_truth: <mean finger-joint error> deg`` (of the first landmark model,
over the letters).
``--landmarks`` fits the same MediaPipe readings with each of the fitter's landmark
models (``engine.data.fit.LANDMARK_MODELS``; default both, the fitter's default
"joints" first) so a before/after comparison shares one set of renders and readings;
``--starts 2`` fits with two starting poses (``fit_keypoints(starts=...)``).
``--hand-reader shipped,none`` fits each reading with each hand reader too ("shipped":
the one in the assets, "none": the 2D points alone, or a checkpoint's path), each
landmark model after the first with the first reader only; the first pair is the
last line's.

Because the letters' truths are the lexicon's own fits, the hand-made shapes of
``engine.body.reference_poses`` (flat, fist, index point, V; on the raised signing arm)
are measured too, apart from the letters (``--shapes``; "none" to skip), with the
nearest reference shape to each reconstruction (a fist read as "flat" is wrong however
small its mean error looks). Also reported per case: the error of the right wrist's
world orientation (degrees), which the finger-joint mean cannot see: a palm turned the
wrong way with well-shaped fingers reads as another letter.
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

from engine.body import default_avatar
from engine.body.reference_poses import RIGHT_HAND_SHAPES, signing_pose
from engine.body.skeleton import JOINT_INDEX
from engine.body.tips import hand_points
from engine.data.fit import LANDMARK_MODELS, fit_keypoints
from engine.data.fit.hand_reader import load_hand_reader
from engine.data.lexicon import LexiconStore
from engine.data.video_import import read_video_keypoints
from engine.export.render import OffscreenRenderer
from engine.metrics.joint_error import rotation_angle_deg
from engine.generate.image_match import steadiest_frame
from engine.motion import Motion

FINGER_JOINTS = [f"{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)]


def wrist_error_deg(avatar, truth: Motion, fitted: Motion, frame: int) -> float:
    """Geodesic angle (degrees) between the right wrist's world orientations."""
    wrist = JOINT_INDEX["right_wrist"]
    a = avatar.forward(truth.frame(frame)).joint_rotations[0, wrist]
    b = avatar.forward(fitted.frame(frame)).joint_rotations[0, wrist]
    return float(np.degrees(Rotation.from_matrix(a.T @ b).magnitude()))


def truths(store: LexiconStore, avatar, letters: str, shapes: list[str]) -> dict[str, Motion]:
    """Name -> a 6-frame still Motion: each letter's steadiest lexicon frame, then each
    reference hand shape on the signing arm (named ``shape:<name>``)."""
    out = {}
    for letter in letters:
        found = store.find_gloss("ase", letter)
        if not found:
            raise SystemExit(f"known_truth: the lexicon {store.path} has no ase entry for {letter!r}; "
                             "run `signstudio-cli lexicon build --lang ase` or pass --db")
        motion = store.get(found[0].id).motion
        frame = steadiest_frame(hand_points(avatar, motion, "right"))
        out[letter] = Motion.concatenate([motion.frame(frame)] * 6)
    for shape in shapes:
        out[f"shape:{shape}"] = Motion.concatenate([signing_pose(shape)] * 6)
    return out


def read_render(renderer, avatar, truth: Motion, video: Path):
    """``truth`` rendered from the front camera, written as ``video`` and read by
    MediaPipe Holistic: (its KeypointSequence, the posed body)."""
    import imageio.v3 as iio

    posed = avatar.forward(truth)
    renderer.set_camera("front", posed.joints)
    images = np.stack([renderer.render(v) for v in posed.vertices])
    iio.imwrite(video, images, fps=25, codec="libx264", plugin="pyav")
    return read_video_keypoints(video), posed


def main() -> None:
    import imageio.v3 as iio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--letters", default="ABCDEFILORSVWY")
    parser.add_argument("--shapes", default=",".join(RIGHT_HAND_SHAPES),
                        help="reference hand shapes to measure too (comma-separated, or none)")
    parser.add_argument("--renders", help="folder for truth | reconstruction PNGs")
    parser.add_argument("--landmarks", default=",".join(LANDMARK_MODELS),
                        help="comma-separated landmark models to fit with (first one rendered)")
    parser.add_argument("--starts", type=int, default=1, choices=(1, 2),
                        help="starting poses per fit (fit_keypoints(starts=...))")
    parser.add_argument("--hand-reader", default="shipped",
                        help="comma-separated hand readers: shipped, none, or a checkpoint path")
    args = parser.parse_args()
    landmark_models = args.landmarks.split(",")
    for model in landmark_models:
        if model not in LANDMARK_MODELS:
            parser.error(f"--landmarks: {model!r} is not one of {LANDMARK_MODELS}")
    readers = {}
    for name in args.hand_reader.split(","):
        readers[name] = (None if name == "none" else "shipped" if name == "shipped"
                         else load_hand_reader(name))
    reader_names = list(readers)
    # (landmark model, reader name) pairs, named "model" or "model+reader".
    variants = [(landmark_models[0], name) for name in reader_names]
    variants += [(model, reader_names[0]) for model in landmark_models[1:]]
    models = [model if len(reader_names) == 1 else f"{model}+{reader}" for model, reader in variants]
    variant_of = dict(zip(models, variants))
    shapes = [] if args.shapes == "none" else args.shapes.split(",")
    for shape in shapes:
        if shape not in RIGHT_HAND_SHAPES:
            parser.error(f"--shapes: {shape!r} is not one of {', '.join(RIGHT_HAND_SHAPES)}")
    os.environ.setdefault("GLOG_minloglevel", "2")
    avatar = default_avatar()
    rows = {model: {} for model in models}
    wrists = {model: {} for model in models}
    with LexiconStore(args.db) as store, tempfile.TemporaryDirectory() as tmp, \
            OffscreenRenderer(avatar, 640, 640) as renderer:
        cases = truths(store, avatar, args.letters, shapes)
        for name, truth in cases.items():
            sequence, posed = read_render(renderer, avatar, truth,
                                          Path(tmp) / f"{name.replace(':', '_')}.mp4")
            if not (sequence.confidence["right_hand"] > 0).any():
                print(f"{name}: MediaPipe found no right hand in the render")
                continue
            for model in models:
                landmarks, reader = variant_of[model]
                fits = fit_keypoints(sequence, landmarks=landmarks, starts=args.starts,
                                     hand_reader=readers[reader]).motion
                error = rotation_angle_deg(truth.right_hand_pose, fits.right_hand_pose).mean(axis=0)
                rows[model][name] = error
                wrists[model][name] = wrist_error_deg(avatar, truth, fits, 3)
                nearest = ""
                if name.startswith("shape:"):
                    held = fits.right_hand_pose[3]
                    distance = {shape: float(rotation_angle_deg(pose, held).mean())
                                for shape, pose in RIGHT_HAND_SHAPES.items()}
                    nearest = f", nearest shape {min(distance, key=distance.get)}"
                print(f"{name} [{model}]: mean {error.mean():5.1f} deg, worst "
                      f"{FINGER_JOINTS[int(error.argmax())]} {error.max():5.1f} deg, wrist "
                      f"{wrists[model][name]:5.1f} deg{nearest}", flush=True)
                if model == models[0]:
                    fitted = fits
            if args.renders:
                out = Path(args.renders)
                out.mkdir(parents=True, exist_ok=True)
                fitted_posed = avatar.forward(fitted.frame(3))
                renderer.set_camera("hands", posed.joints)
                left = renderer.render(posed.vertices[0])
                right = renderer.render(fitted_posed.vertices[0])
                iio.imwrite(out / f"{name.replace(':', '_')}.png", np.concatenate([left, right], axis=1))
    letters = [name for name in cases if not name.startswith("shape:")]
    for model in reversed(models):
        for label, names in (("letters", letters), ("shapes", [n for n in cases if n.startswith("shape:")])):
            names = [n for n in names if n in rows[model]]
            if not names:
                continue
            table = np.array([rows[model][n] for n in names])
            print(f"[{model}] {label} per joint (deg): " + ", ".join(
                f"{joint} {value:.1f}" for joint, value in zip(FINGER_JOINTS, table.mean(axis=0))))
            print(f"[{model}] {label} per case (deg): " + ", ".join(
                f"{n} {value:.1f}" for n, value in zip(names, table.mean(axis=1))))
            print(f"[{model}] {label} mean {table.mean():.1f} deg, wrist mean "
                  f"{np.mean([wrists[model][n] for n in names]):.1f} deg")
    first = [rows[models[0]][n] for n in letters if n in rows[models[0]]]
    print(f"known_truth: {np.array(first).mean():.1f} deg")


if __name__ == "__main__":
    sys.exit(main())
