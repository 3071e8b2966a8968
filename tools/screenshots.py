"""Screenshots of the studio for the issue notes (needs an X server: run under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1200x24" python tools/screenshots.py \
        --lexicon PATH --out /tmp/studio_shots

Writes 01_generated.png (after generating HELLO in ASL), 02_keyframe_selected.png and
03_mid_drag.png (a keyframe being dragged, before release) and 04_hands_camera.png
(the generated letter through the Hands close-up). Uses a throwaway settings
folder and recovery folder, so the user's own are not touched.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexicon", help="lexicon database (default: the user's)")
    parser.add_argument("--out", default="/tmp/studio_shots")
    parser.add_argument("--text", default="HELLO")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("screenshots: needs an X display (run under xvfb-run)", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="signstudio-shots-"))
    os.environ.setdefault("SIGNSTUDIO_CONFIG_DIR", str(scratch / "config"))

    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from studio.app import build_main_window
    from studio.recovery import RecoveryStore

    _app = QApplication.instance() or QApplication([])  # kept alive for the whole run

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(condition, timeout_ms: int = 30000) -> None:
        for _ in range(timeout_ms // 50):
            if condition():
                return
            wait(50)
        raise TimeoutError("screenshots: the studio did not get there in time")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    window = build_main_window(
        lexicon_path=args.lexicon, with_viewport=True,
        qsettings=QSettings(str(scratch / "studio.ini"), QSettings.Format.IniFormat),
        recovery=RecoveryStore(scratch / "recovery"))
    window.resize(1500, 940)
    window.show()
    wait_for(lambda: window.prompt.language.count() > 0)
    window.prompt.text.setText(args.text)
    QTest.mouseClick(window.prompt.generate_button, Qt.MouseButton.LeftButton)
    wait_for(lambda: window.lexicon_actions.last_generation is not None)
    doc = window.document
    project = doc.project
    segment = project.segments[1] if len(project.segments) > 1 else project.segments[0]
    doc.set_frame(segment.end - segment.hold)  # the letter fully formed
    wait(800)
    window.grab().save(str(out / "01_generated.png"))
    window.viewport.set_camera("hands")
    wait(800)
    window.grab().save(str(out / "04_hands_camera.png"))
    window.viewport.set_camera("front")

    keys = [k.frame for k in project.keyframes if segment.start <= k.frame < segment.end]
    key = keys[len(keys) // 2]
    view = window.timeline
    y = view.track_y(2)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(key, y))
    wait(800)
    window.grab().save(str(out / "02_keyframe_selected.png"))

    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(key, y))
    for frame in range(key + 1, key + 9):
        QTest.mouseMove(view.viewport(), view.view_point(frame, y))
        wait(30)
    wait(800)
    window.grab().save(str(out / "03_mid_drag.png"))
    QTest.keyClick(view, Qt.Key.Key_Escape)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(key, y))
    doc.undo_stack.setClean()
    window.close()
    window.runner.shutdown()
    print(f"screenshots: wrote {', '.join(sorted(p.name for p in out.glob('*.png')))} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
