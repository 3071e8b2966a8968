"""Benchmark: does a recogniser that never saw our output read our rendered letters? (issue 16)

    python bench/letter_recognition.py --db LEXICON [--cameras front,three_quarter]
                                       [--letters ABC...] [--k 5] [--renders FOLDER]

The recogniser learns only from the package's real ASL recordings (spoken-to-signed
clips: MediaPipe Holistic keypoints of a human signer, in 2D): every frame of the
middle half of each static letter's clip where the dominant hand is seen. A frame is
described by its 21 hand points relative to the wrist, turned in the image so the
wrist-to-middle-knuckle line points up and divided by its length (a hand tilted in the
picture is the same hand); a frame's letter is the vote of its ``--k`` nearest recorded
frames. Trained on front views only, it reads a hand seen from elsewhere as its
foreshortened picture.

Each of our letters (the lexicon's ASL entry, its steadiest frame, as
``bench/known_truth.py`` takes it) is rendered on the default avatar from each camera
(640x640, 6 still frames as a video), read by MediaPipe Holistic, and each read frame
classified; the letter's answer is the majority over its frames. Prints per camera the
letters read right, the confusions (ours -> read as), and last
``letter_recognition: <right from the first camera>/<letters>``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.hand_reader import STATIC_LETTERS

#: MediaPipe hand points: the wrist and the middle finger's knuckle.
WRIST, MIDDLE_MCP = 0, 9


def palm_frame_features(hands: np.ndarray) -> np.ndarray:
    """(N, 21, 2+) hand points, y up -> (N, 40): the 20 non-wrist points in 2D, turned
    so the wrist-to-middle-knuckle line points up, in lengths of that line. 2D because
    the recordings are (their depth is not kept)."""
    relative = hands[..., :2] - hands[:, WRIST:WRIST + 1, :2]
    length = np.linalg.norm(relative[:, MIDDLE_MCP], axis=-1)[:, None] + 1e-9
    up = relative[:, MIDDLE_MCP] / length
    right = np.stack([up[:, 1], -up[:, 0]], axis=-1)
    local = np.stack([np.einsum("nkd,nd->nk", relative[:, 1:], right),
                      np.einsum("nkd,nd->nk", relative[:, 1:], up)], axis=-1)
    return (local / length[:, :, None]).reshape(len(hands), -1)


def recorded_letters(letters: str):
    """(features (N, 60), labels (N,)) from the package's ASL recordings."""
    from engine.data.fingerspelling import load_index

    index = load_index()
    features, labels = [], []
    for letter in letters:
        sequence = index.read(index.find("ase", letter))
        frames = sequence.num_frames
        middle = np.arange(frames // 4, max(frames // 4 + 1, 3 * frames // 4))
        seen = middle[(sequence.confidence["right_hand"][middle] > 0).all(axis=1)]
        if not seen.size:
            print(f"  recording of {letter}: no dominant hand seen in its middle half")
            continue
        features.append(palm_frame_features(sequence.right_hand[seen].astype(np.float64)))
        labels += [letter] * len(seen)
    return np.concatenate(features), np.array(labels)


def classify(features: np.ndarray, known: np.ndarray, labels: np.ndarray, k: int) -> list[str]:
    """The vote of each row's ``k`` nearest known rows (ties: the nearest)."""
    distances = ((features[:, None] - known[None]) ** 2).sum(-1)
    answers = []
    for row in distances:
        nearest = np.argsort(row)[:k]
        votes = Counter(labels[nearest])
        best = max(votes.values())
        answers.append(next(labels[n] for n in nearest if votes[labels[n]] == best))
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--cameras", default="front,three_quarter")
    parser.add_argument("--letters", default=STATIC_LETTERS)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--renders", help="folder to keep each render's first frame (PNG)")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import imageio.v3 as iio

    from bench.known_truth import truths
    from engine.body.default_avatar import default_avatar
    from engine.data.lexicon import LexiconStore
    from engine.data.video_import import read_video_keypoints
    from engine.export.render import OffscreenRenderer

    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    started = time.perf_counter()
    known, labels = recorded_letters(args.letters)
    print(f"recogniser: {len(known)} frames of {len(set(labels))} recorded letters")
    avatar = default_avatar()
    cameras = args.cameras.split(",")
    results = {camera: {} for camera in cameras}
    with LexiconStore(args.db, read_only=True) as store, tempfile.TemporaryDirectory() as folder, \
            OffscreenRenderer(avatar, 640, 640) as renderer:
        for letter, truth in truths(store, avatar, args.letters, []).items():
            posed = avatar.forward(truth)
            for camera in cameras:
                renderer.set_camera(camera, posed.joints)
                images = np.stack([renderer.render(v) for v in posed.vertices])
                video = Path(folder) / f"{letter}_{camera}.mp4"
                iio.imwrite(video, images, fps=25, codec="libx264", plugin="pyav")
                if args.renders:
                    Path(args.renders).mkdir(parents=True, exist_ok=True)
                    iio.imwrite(Path(args.renders) / f"{letter}_{camera}.png", images[0])
                sequence = read_video_keypoints(video)
                seen = (sequence.confidence["right_hand"] > 0).all(axis=1)
                if not seen.any():
                    results[camera][letter] = "-"
                    continue
                answers = classify(palm_frame_features(sequence.right_hand[seen].astype(np.float64)),
                                   known, labels, args.k)
                results[camera][letter] = Counter(answers).most_common(1)[0][0]
    for camera in cameras:
        read = results[camera]
        right = [letter for letter, answer in read.items() if answer == letter]
        confusions = [f"{letter}->{answer}" for letter, answer in read.items() if answer != letter]
        print(f"{camera}: {len(right)}/{len(read)} read as themselves; confusions: "
              f"{', '.join(confusions) or 'none'}")
    print(f"({time.perf_counter() - started:.0f} s)")
    first = results[cameras[0]]
    print(f"letter_recognition: {sum(a == b for b, a in first.items())}/{len(first)}")


if __name__ == "__main__":
    main()
