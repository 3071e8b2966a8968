"""The default avatar bake is reproducible (needs the optional `anny` package)."""
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bake_reproduces_the_committed_asset(tmp_path):
    pytest.importorskip("anny", reason="the bake needs `pip install -e '.[bake]'`")
    out = tmp_path / "default_avatar.npz"
    subprocess.run([sys.executable, str(ROOT / "tools" / "bake_default_avatar.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=900)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(out) == digest(ROOT / "assets" / "default_avatar.npz")
