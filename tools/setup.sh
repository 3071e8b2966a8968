#!/usr/bin/env bash
# Set up Sign Studio on a fresh machine: `bash tools/setup.sh` (app) or
# `bash tools/setup.sh test` (app + test tools).
set -euo pipefail
cd "$(dirname "$0")/.."
# torch first, pinned: any open range asked for by a later package would otherwise
# pull the newest CUDA build (several GB). With 2.13.0 in place those ranges are met.
# torchvision 0.28.0 is the release made for torch 2.13 (open_clip needs it); unpinned it
# would pull torch 2.15 with CUDA.
python -m pip install --quiet torch==2.13.0 torchvision==0.28.0
if [ "${1:-}" = "test" ]; then
    python -m pip install --quiet -e ".[test]"
    # A virtual X server for the Qt viewport tests (pyvistaqt needs a real GL window).
    if ! command -v xvfb-run >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 \
            libxcb-image0 libxcb-render-util0 libxcb-shape0 >/dev/null
    fi
    # The Khronos glTF validator checks our .glb exports in the tests (npm, not PyPI).
    if command -v npm >/dev/null 2>&1; then
        npm install --silent --no-audit --no-fund --prefix .cache/npm gltf-validator@2.0.0-dev.3.10
    fi
else
    python -m pip install --quiet -e .
fi
