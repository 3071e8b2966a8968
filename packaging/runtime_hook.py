"""PyInstaller runtime hook: point the engine at the bundled assets/ folder.

SIGNSTUDIO_ASSETS_DIR is the first place the engine looks (before the installed
`signstudio_assets` package, which a bundle does not import); inside a bundle the data
files live under sys._MEIPASS.
"""
import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
if _bundle:
    os.environ.setdefault("SIGNSTUDIO_ASSETS_DIR", os.path.join(_bundle, "assets"))
