"""Sign Studio desktop application (PySide6). The engine does the work; this is the UI."""
import os

# Widgets without a GL viewport run on Qt's offscreen platform when there is no X
# server; viewport tests need Xvfb and are marked `gl`.
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

