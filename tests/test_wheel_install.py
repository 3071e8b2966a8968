"""The package as a user installs it: every package and asset in the wheel, and a
wheel installed into a fresh environment runs the demo from any folder."""
import fnmatch
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from engine import assets

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def source_packages() -> set[str]:
    """Dotted names of the folders under engine/ and studio/ that hold Python code."""
    return {".".join(module.parent.relative_to(ROOT).parts)
            for top in ("engine", "studio") for module in (ROOT / top).rglob("*.py")
            if "__pycache__" not in module.parts}


def test_the_listed_packages_are_the_code_folders_and_the_assets():
    listed = set(SETUPTOOLS["packages"])
    expected = source_packages() | {assets.ASSETS_PACKAGE}
    assert sorted(expected - listed) == [], "add to [tool.setuptools] packages in pyproject.toml"
    assert sorted(listed - expected) == [], "remove from [tool.setuptools] packages"
    assert SETUPTOOLS["package-dir"][assets.ASSETS_PACKAGE] == "assets"


def test_every_asset_file_is_package_data():
    patterns = SETUPTOOLS["package-data"][assets.ASSETS_PACKAGE]
    folder = ROOT / "assets"
    files = [path.relative_to(folder).as_posix() for path in folder.rglob("*")
             if path.is_file() and "__pycache__" not in path.parts]
    assert "default_avatar.npz" in files and "models/flow_kf2p.pt" in files
    missing = [name for name in files
               if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)]
    assert missing == [], "add patterns for these to [tool.setuptools.package-data]"


def test_the_override_comes_first_then_the_installed_package(tmp_path, monkeypatch):
    installed = tmp_path / "site" / assets.ASSETS_PACKAGE
    (installed / "models").mkdir(parents=True)
    (installed / "default_avatar.npz").write_bytes(b"installed")
    monkeypatch.delenv("SIGNSTUDIO_ASSETS_DIR", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert assets.asset_path("default_avatar.npz").read_bytes() == b"installed"

    monkeypatch.setenv("SIGNSTUDIO_ASSETS_DIR", str(tmp_path))
    assert assets.assets_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="SIGNSTUDIO_ASSETS_DIR"):
        assets.asset_path("default_avatar.npz")


def test_a_source_checkout_reads_the_assets_folder_beside_the_code(monkeypatch):
    monkeypatch.delenv("SIGNSTUDIO_ASSETS_DIR", raising=False)
    monkeypatch.setattr(assets, "installed_assets_dir", lambda: None)
    assert assets.asset_path("default_avatar.npz") == ROOT / "assets" / "default_avatar.npz"


def build_wheel(folder: Path) -> Path:
    """The wheel built from a copy of the sources (so no stale build/ folder of the
    checkout slips into it), with the machine's setuptools."""
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("engine", "studio", "assets"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(folder / "wheel")],
                   check=True, capture_output=True, timeout=120)
    (wheel,) = (folder / "wheel").glob("sign_studio-*.whl")
    return wheel


@pytest.mark.slow
@pytest.mark.gl
def test_the_wheel_installed_elsewhere_runs_the_demo(tmp_path):
    pytest.importorskip("setuptools")
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"{assets.ASSETS_PACKAGE}/default_avatar.npz",
            f"{assets.ASSETS_PACKAGE}/models/flow_kf2p.pt",
            f"{assets.ASSETS_PACKAGE}/models/segmenter.pt"} <= names

    # torch, VTK and Qt come from this machine; the package itself only from the wheel.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True, timeout=120)
    python, cli = venv / "bin" / "python", venv / "bin" / "signstudio-cli"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=120)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "SIGNSTUDIO_ASSETS_DIR")}

    def run(*argv: str) -> str:
        done = subprocess.run(argv, cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    where = run(str(python), "-c", "import engine, engine.assets; "
                "print(engine.__file__); print(engine.assets.assets_dir())").split()
    site = venv.resolve()
    assert [Path(path).resolve().is_relative_to(site) for path in where] == [True, True], where
    assert f"assets: {where[1]}" in run(str(cli), "info")

    out = elsewhere / "demo"
    printed = run(str(cli), "demo", "--out", str(out), "--text", "hi", "--width", "64",
                  "--height", "48", "--workers", "1")
    assert "demo done in" in printed
    for name in ("arms_down.png", "right_fist.png", "hi.signstudio", "hi.npz",
                 "hi_letters.png", "lexicon.sqlite"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "hi.mp4").is_file() or (out / "hi.gif").is_file()
