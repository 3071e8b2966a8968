"""Studio latencies, measured in the real main window (needs X: run under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1200x24" python bench/studio.py [--lexicon PATH]

1. Generate -> first frame shown: from the Generate click to the viewport's first render
   of the new project (lexicon lookup, assembly with KF2P transitions, skinning, render).
2. Playback frames/s: frames actually painted per second while playing at 1x, with the
   frames dropped to keep real time (motion frames due in that time minus frames painted)
   and the median time of one paint (skinning + VTK render + blit).
3. Keyframe release -> updated motion on screen, for a 300-frame range with the baseline
   (smooth) in-betweener, or the one ``--backend`` names: a synthetic project whose moved
   key has neighbours 300 frames apart; timed from the mouse release to the viewport's
   render of the landed command.
On Xvfb the GL is software (llvmpipe): render times are far above a real GPU's.
Without --lexicon a synthetic ASL lexicon (a few letters) is built in a temp folder.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic_lexicon(path: Path) -> Path:
    from engine.body.reference_poses import RIGHT_HAND_SHAPES, arms_down
    from engine.data.lexicon import LexiconEntry, LexiconStore
    from engine.motion import Motion
    from engine.motion.interpolate import inbetween

    shapes = {"H": "asl_v", "E": "fist", "L": "index_point", "O": "fist"}
    with LexiconStore(path) as store:
        for letter, shape in shapes.items():
            flat = arms_down(Motion.zeros(1, fps=25))
            target = flat.replace(right_hand_pose=RIGHT_HAND_SHAPES[shape][None])
            store.add(LexiconEntry(gloss=letter, language="ase", words=(letter,),
                                   motion=Motion.concatenate([flat, inbetween(flat, target, 10),
                                                              target]),
                                   source_kind="manual", source="bench", source_hash=letter,
                                   licence="bench", kind="letter"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexicon")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quality", choices=["draft", "high"], default="high")
    parser.add_argument("--backend", choices=["smooth", "slerp", "flow"], default="smooth",
                        help="KF2P backend on release (the studio's own default is the learned "
                        "'flow' when shipped; the issue's target is for the baseline)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("bench/studio.py: needs an X display (run under xvfb-run)", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="signstudio-bench-"))
    os.environ["SIGNSTUDIO_CONFIG_DIR"] = str(scratch / "config")
    from engine.settings import Settings, save_settings

    save_settings(Settings(render_quality=args.quality))
    lexicon = Path(args.lexicon) if args.lexicon else synthetic_lexicon(scratch / "lex.sqlite")

    import numpy as np
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from engine.motion import Keyframe, Motion, Project
    from engine.motion.edits import ReplaceProject
    from studio.app import build_main_window
    from studio.recovery import RecoveryStore

    _app = QApplication.instance() or QApplication([])  # kept alive for the whole run

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(condition, timeout_s: float = 30.0) -> None:
        end = time.perf_counter() + timeout_s
        while not condition():
            if time.perf_counter() > end:
                raise TimeoutError("bench: timed out")
            wait(1)

    window = build_main_window(lexicon_path=lexicon, with_viewport=True,
                               qsettings=QSettings(str(scratch / "s.ini"),
                                                   QSettings.Format.IniFormat),
                               recovery=RecoveryStore(scratch / "recovery"))
    window.resize(1400, 900)
    window.show()
    wait_for(lambda: window.prompt.language.count() > 0)
    viewport, doc = window.viewport, window.document
    shown = []
    viewport.frame_shown.connect(lambda frame: shown.append(time.perf_counter()))

    # 1. Generate -> first frame shown.
    generate = []
    for _ in range(args.runs):
        window.prompt.text.setText("hello")
        wait(50)
        shown.clear()
        project_before = doc.project
        start = time.perf_counter()
        QTest.mouseClick(window.prompt.generate_button, Qt.MouseButton.LeftButton)
        wait_for(lambda before=project_before: doc.project is not before and shown)
        generate.append((shown[0] - start) * 1000)
    print(f"generate 'hello' -> first frame shown: median {statistics.median(generate):.0f} ms "
          f"(runs: {', '.join(f'{t:.0f}' for t in generate)})")

    # 2. Playback frames/s at 1x.
    window.playback.set_loop(True)
    doc.set_frame(0)
    wait(400)  # let a "high" quality still-frame refinement pass first
    paint_ms = []
    record = lambda frame: paint_ms.append(viewport.last_paint_ms)  # noqa: E731
    viewport.frame_shown.connect(record)
    before = viewport.frames_rendered
    start = time.perf_counter()
    window.playback.play()
    wait(3000)
    window.playback.pause()
    elapsed = time.perf_counter() - start
    viewport.frame_shown.disconnect(record)
    painted = viewport.frames_rendered - before
    playback_fps = painted / elapsed
    fps = doc.project.motion.fps
    dropped = max(0, round(elapsed * fps) - painted)
    print(f"playback: {playback_fps:.1f} frames/s painted (motion at {fps:g} fps, quality "
          f"{args.quality}); {dropped} of {round(elapsed * fps)} frames dropped to keep real "
          f"time; one paint: median {statistics.median(paint_ms):.1f} ms")

    # 3. Release -> updated motion on screen, 300-frame range.
    window.drag.backend = args.backend
    rng = np.random.default_rng(0)
    motion = Motion.zeros(400, fps=30)
    motion = motion.replace(
        body_pose=rng.uniform(-0.3, 0.3, motion.body_pose.shape).astype(np.float32),
        right_hand_pose=rng.uniform(-0.3, 0.3, motion.right_hand_pose.shape).astype(np.float32))
    keys = tuple(Keyframe.from_motion(motion, f) for f in (49, 200, 350))
    doc.apply_edit(ReplaceProject(Project(motion=motion, keyframes=keys)), "bench project")
    view = window.timeline
    view.set_zoom(3.0)
    release = []
    y = view.track_y(2)
    for run in range(args.runs):
        key = 200 if run % 2 == 0 else 206
        target = 206 if run % 2 == 0 else 200
        view.centerOn(view.x_of(key), y)
        wait(50)
        QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(key, y))
        for frame in range(key, target + (1 if target > key else -1), 1 if target > key else -1):
            QTest.mouseMove(view.viewport(), view.view_point(frame, y))
        wait(100)
        steps = doc.undo_stack.count()
        doc.set_frame(275)  # look at a regenerated frame, away from the key
        wait(100)
        shown.clear()
        start = time.perf_counter()
        QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(target, y))
        wait_for(lambda steps=steps: doc.undo_stack.count() == steps + 1 and shown)
        release.append((shown[-1] - start) * 1000)
    print(f"keyframe release -> updated motion on screen (range 50..349, 300 frames, "
          f"{args.backend} in-betweener): "
          f"runs {', '.join(f'{t:.0f}' for t in release)} ms")
    size = viewport.plotter.render_window.GetSize()
    doc.undo_stack.setClean()
    window.close()
    window.runner.shutdown()
    print(f"cores: {os.cpu_count()} (shared; load average {os.getloadavg()[0]:.1f}), GL: "
          f"Xvfb software rendering, viewport {size[0]}x{size[1]}")
    print(f"keyframe_release_to_screen: {statistics.median(release):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
