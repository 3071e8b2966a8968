"""Where MediaPipe's 478 face landmarks lie on the default avatar's mesh.

``assets/mediapipe_face_points.json`` (measured by tools/calibrate_face_points.py) gives
each landmark as three vertex ids and barycentric weights; the face fitter, the
``.pose`` export and the avatar's brows and lips all place the landmarks through this
one reader.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from engine.assets import asset_path

FACE_POINTS_FILE = "mediapipe_face_points.json"


@lru_cache(maxsize=1)
def face_points_asset() -> dict:
    """The asset as stored (read once): ``points``, ``shape_gains``, ``view_spread_mm``..."""
    return json.loads(asset_path(FACE_POINTS_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def face_point_surface() -> tuple[np.ndarray, np.ndarray]:
    """(vertex ids (478, 3) int64, barycentric weights (478, 3) float64), read-only."""
    points = face_points_asset()["points"]
    ids = np.array([p["vertices"] for p in points], np.int64)
    weights = np.array([p["weights"] for p in points], np.float64)
    for array in (ids, weights):
        array.setflags(write=False)
    return ids, weights


def face_points_on(vertices: np.ndarray) -> np.ndarray:
    """(..., 478, 3) the landmarks on (..., V, 3) vertices of the default avatar's mesh."""
    ids, weights = face_point_surface()
    return np.einsum("nk,...nkd->...nd", weights, np.asarray(vertices)[..., ids, :])
