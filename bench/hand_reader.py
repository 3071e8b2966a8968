"""Benchmark: a learned reading of MediaPipe's hand against the fitter (issue 16).

    python bench/hand_reader.py --db LEXICON [--samples 4000] [--train-langs gsg,bzs,ise,csq]
                                [--depth] [--cache FOLDER]

MediaPipe reads a rendered hand with a bias the fitter cannot undo from 2D alone (a fist
comes out half-curled: docs/fitting.md). This bench asks how far a network that has
learned that bias can undo it. It renders the default avatar with the letters of other
languages (``--train-langs``: each letter's steadiest frame, arms and fingers mixed
between letters, half of them blended with a third letter's fingers, every finger angle
jittered by 0.12 rad and the wrist by 0.25 rad), reads each render with MediaPipe
Holistic, and trains a small network from the right hand's 21 points (2D, relative to
the wrist, in hand sizes; ``--depth`` adds MediaPipe's relative z) to the 15 finger
joint rotations. It is then scored on the 24 static ASL letters, which it never saw,
rendered and read as ``bench/known_truth.py`` does, beside the fitter on the same
readings and the average of the two. Mean geodesic error over the 15 right-hand finger
joints, degrees.

``--cache`` keeps the renders' readings and the letters' fits there, so a second run
trains and scores only. Last line: ``hand_reader: <the network's mean error> deg``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: The 24 ASL letters held still (J and Z move).
STATIC_LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"


def letter_frames(store, avatar, language: str) -> dict:
    """Gloss -> a one-frame Motion: each letter entry's steadiest frame."""
    from engine.body.tips import hand_points
    from engine.generate.image_match import steadiest_frame

    out = {}
    for summary in store.list(language):
        motion = store.get(summary.id).motion
        out.setdefault(summary.gloss, motion.frame(steadiest_frame(hand_points(avatar, motion))))
    return out


def hand_features(points: np.ndarray, depth: bool) -> np.ndarray:
    """(N, 21, 3) image-style hand points (x right, y down, z away) -> (N, 42 or 63):
    relative to the wrist, in wrist-to-middle-knuckle lengths on the image, y up."""
    relative = points - points[:, :1]
    size = np.linalg.norm(relative[:, 9, :2], axis=-1)[:, None, None] + 1e-9
    scaled = relative / size * np.array([1.0, -1.0, -1.0])
    return (scaled if depth else scaled[..., :2]).reshape(len(points), -1).astype(np.float32)


def training_readings(store, avatar, languages: list[str], samples: int, seed: int = 1):
    """(readings (N, 21, 3) image-style, finger poses (N, 15, 3)) of jittered renders."""
    import mediapipe as mp

    from engine.body.skeleton import JOINT_INDEX
    from engine.export.render import OffscreenRenderer

    bases = [m for language in languages for m in letter_frames(store, avatar, language).values()]
    if not bases:
        raise SystemExit(f"hand_reader: the lexicon has no letters of {', '.join(languages)}")
    rng = np.random.default_rng(seed)
    wrist = JOINT_INDEX["right_wrist"] - 1
    readings, poses = [], []
    started = time.perf_counter()
    with mp.solutions.holistic.Holistic(static_image_mode=True, model_complexity=1) as holistic, \
            OffscreenRenderer(avatar, 640, 640) as renderer:
        for number in range(samples):
            arm = bases[rng.integers(len(bases))]
            fingers = bases[rng.integers(len(bases))].right_hand_pose[0].astype(np.float64)
            if rng.random() < 0.5:
                share = rng.random()
                fingers = (1 - share) * fingers + share * bases[rng.integers(len(bases))].right_hand_pose[0]
            fingers = fingers + rng.normal(0, 0.12, fingers.shape)
            body = arm.body_pose[0].astype(np.float64)
            body[wrist] += rng.normal(0, 0.25, 3)
            motion = arm.replace(body_pose=body[None].astype(np.float32),
                                 right_hand_pose=fingers[None].astype(np.float32))
            posed = avatar.forward(motion)
            renderer.set_camera("front", posed.joints)
            image = renderer.render(posed.vertices[0])
            found = holistic.process(np.ascontiguousarray(image[..., :3])).right_hand_landmarks
            if found is None:
                continue
            height, width = image.shape[:2]
            readings.append([[m.x * width, m.y * height, m.z * width] for m in found.landmark])
            poses.append(fingers)
            if number % 500 == 0:
                print(f"  {number} renders, {len(readings)} hands read, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
    return np.array(readings), np.array(poses, np.float32)


def letter_readings(store, avatar):
    """(names, truths (L, 15, 3), readings (L, 21, 3) image-style, fits (L, 15, 3)) of
    the static ASL letters, rendered and read as bench/known_truth.py does."""
    from bench.known_truth import read_render, truths
    from engine.data.fit import fit_keypoints
    from engine.export.render import OffscreenRenderer

    names, truths_found, readings, fits = [], [], [], []
    with tempfile.TemporaryDirectory() as folder, OffscreenRenderer(avatar, 640, 640) as renderer:
        for letter, truth in truths(store, avatar, STATIC_LETTERS, []).items():
            sequence, _ = read_render(renderer, avatar, truth, Path(folder) / f"{letter}.mp4")
            if not (sequence.confidence["right_hand"][3] > 0).any():
                print(f"  {letter}: MediaPipe found no right hand")
                continue
            # the sequence's frame has y and z negated: back to image-style
            readings.append(sequence.right_hand[3] * np.array([1.0, -1.0, -1.0]))
            truths_found.append(truth.right_hand_pose[3])
            fits.append(fit_keypoints(sequence).motion.right_hand_pose[3])
            names.append(letter)
    return names, np.array(truths_found), np.array(readings), np.array(fits)


def train_reader(features: np.ndarray, poses: np.ndarray, steps: int = 4000, seed: int = 0):
    """A 2-layer network (256 wide) from features to the 45 finger rotation values."""
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(features.shape[1], 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 45))
    optimiser = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-5)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    x, y = torch.from_numpy(features), torch.from_numpy(poses.reshape(len(poses), -1))
    for _ in range(steps):
        batch = torch.randint(0, len(x), (256,))
        loss = ((net(x[batch] + 0.01 * torch.randn_like(x[batch])) - y[batch]) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return lambda f: net(torch.from_numpy(f)).detach().numpy().reshape(len(f), 15, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--train-langs", default="gsg,bzs,ise,csq")
    parser.add_argument("--depth", action="store_true", help="MediaPipe's z as input too")
    parser.add_argument("--cache", help="keep readings and fits here, read them again")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import torch

    from bench.known_truth import angle_deg
    from engine.body.default_avatar import default_avatar
    from engine.data.lexicon import LexiconStore

    torch.set_num_threads(2)
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    avatar = default_avatar()
    cache = Path(args.cache) if args.cache else None
    training = cache / f"training_{args.samples}.npz" if cache else None
    letters = cache / "letters.npz" if cache else None
    with LexiconStore(args.db, read_only=True) as store:
        started = time.perf_counter()
        if training and training.exists():
            with np.load(training) as data:
                readings, poses = data["readings"], data["poses"]
        else:
            readings, poses = training_readings(store, avatar, args.train_langs.split(","),
                                                args.samples)
            if training:
                cache.mkdir(parents=True, exist_ok=True)
                np.savez(training, readings=readings, poses=poses)
        print(f"training: {len(readings)} hands read of {args.samples} renders "
              f"({time.perf_counter() - started:.0f} s)")
        started = time.perf_counter()
        if letters and letters.exists():
            with np.load(letters) as data:
                names, truths, read, fits = (list(data["names"]), data["truths"], data["read"],
                                             data["fits"])
        else:
            names, truths, read, fits = letter_readings(store, avatar)
            if letters:
                np.savez(letters, names=np.array(names), truths=truths, read=read, fits=fits)
        print(f"letters: {len(names)} read and fitted ({time.perf_counter() - started:.0f} s)")
    started = time.perf_counter()
    reader = train_reader(hand_features(readings, args.depth), poses)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    guessed = reader(hand_features(read, args.depth))
    by_reader = angle_deg(truths, guessed).mean(axis=1)
    by_fitter = angle_deg(truths, fits).mean(axis=1)
    by_both = angle_deg(truths, (guessed + fits) / 2).mean(axis=1)
    print("letter  network  fitter  average")
    for name, a, b, c in zip(names, by_reader, by_fitter, by_both):
        print(f"{name:6s} {a:8.1f} {b:7.1f} {c:8.1f}")
    print(f"mean   {by_reader.mean():8.2f} {by_fitter.mean():7.2f} {by_both.mean():8.2f}")
    print(f"hand_reader: {by_reader.mean():.2f} deg")


if __name__ == "__main__":
    main()
