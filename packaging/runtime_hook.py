"""PyInstaller runtime hook: point the engine at the bundled assets/ folder.

The engine finds its assets through SIGNSTUDIO_ASSETS_DIR (else the repo's assets/);
inside a bundle the data files live under sys._MEIPASS.
"""
import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
if _bundle:
    os.environ.setdefault("SIGNSTUDIO_ASSETS_DIR", os.path.join(_bundle, "assets"))
