"""Between the 3D world and the viewport's pixels: where a world point shows on screen,
and which world point lies under a pixel at a given depth. Qt pixels, y down (what
mouse events give), whatever the screen's device pixel ratio."""
from __future__ import annotations

import numpy as np


def screen_of(plotter, point: np.ndarray) -> tuple[float, float, float]:
    """(x, y, depth) of world ``point`` (3,) metres in ``plotter``'s interactor pixels."""
    renderer = plotter.renderer
    renderer.SetWorldPoint(*np.asarray(point, np.float64), 1.0)
    renderer.WorldToDisplay()
    x, y, depth = renderer.GetDisplayPoint()
    height = renderer.GetRenderWindow().GetSize()[1]
    scale = float(plotter.interactor.devicePixelRatioF())
    return x / scale, (height - y) / scale, depth


def world_at(plotter, x: float, y: float, depth: float) -> np.ndarray:
    """The world point (3,) under interactor pixel (x, y) at display ``depth``."""
    renderer = plotter.renderer
    scale = float(plotter.interactor.devicePixelRatioF())
    height = renderer.GetRenderWindow().GetSize()[1]
    renderer.SetDisplayPoint(x * scale, height - y * scale, depth)
    renderer.DisplayToWorld()
    wx, wy, wz, w = renderer.GetWorldPoint()
    return np.array([wx, wy, wz]) / (w if w else 1.0)
