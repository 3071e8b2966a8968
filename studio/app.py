"""Composition root of the desktop app: ``signstudio``.

Until the studio issue lands this opens a minimal main window that proves the
installation works: it loads the default avatar and says what it found.
"""
from __future__ import annotations

import sys


def build_main_window():
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QMainWindow

    from engine import __version__
    from engine.body import default_avatar

    avatar = default_avatar()
    window = QMainWindow()
    window.setWindowTitle(f"Sign Studio {__version__}")
    label = QLabel(
        f"<h2>Sign Studio {__version__}</h2>"
        f"<p>Default avatar loaded: {avatar.num_vertices:,} vertices, "
        f"{len(avatar.blendshape_names_supported)} face blendshapes.</p>"
        "<p>Use <code>signstudio-cli</code> for rendering and projects; the full "
        "studio (viewport, timeline, keyframe editing) comes next.</p>"
    )
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    window.setCentralWidget(label)
    window.resize(720, 420)
    return window


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("Sign Studio")
    app.setOrganizationName("Sign Studio")
    window = build_main_window()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
