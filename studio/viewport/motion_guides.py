"""Motion guides in the viewport: trails of the wrists and index fingertips over the
frames the timeline shows, and an onion skin of the keys either side of the playhead.

Both are drawn for the motion as it is now and rebuilt only when what they show
changes (the motion, the range, the neighbouring keys), not on every frame: moving the
playhead inside a range between two keys redraws nothing here.
"""
from __future__ import annotations

import numpy as np

from engine.body.skeleton import FINGER_NAMES, JOINT_INDEX
from engine.body.trails import neighbour_keys, trail_points

#: Trail colours by point: the right hand blue, the left green; fingertips lighter.
TRAIL_COLOURS = {"right_wrist": "#2f6fd0", "right_index_tip": "#8ab0ea",
                 "left_wrist": "#2e9a5a", "left_index_tip": "#8fd3a8"}
#: Onion skin: the key before the playhead cool, the key after warm, both faint.
ONION_COLOURS = {"before": "#4a78c8", "after": "#d07a3a"}
ONION_OPACITY = 0.3


def arm_faces(body) -> np.ndarray:
    """(T, 3) the triangles of both arms and hands (every corner skinned mostly to an
    arm joint): what an onion skin shows. A whole-body copy lies on the trunk and only
    tints it; the arms are what differs between keys. All triangles for a body
    without skin weights."""
    faces = np.asarray(body.faces, np.int64)
    weights = getattr(body, "skin_weights", None)
    if weights is None:
        return faces
    arm_joints = [index for name, index in JOINT_INDEX.items()
                  if name.partition("_")[0] in ("left", "right") and name.partition("_")[2]
                  .startswith(("shoulder", "elbow", "wrist", *FINGER_NAMES))]
    on_arm = np.isin(np.asarray(weights).argmax(axis=1), arm_joints)
    return faces[on_arm[faces].all(axis=1)]


class MotionGuides:
    """Trails and onion skin in ``plotter`` (a pyvista Plotter or QtInteractor)."""

    def __init__(self, plotter):
        self._plotter = plotter
        self.trails_on = False
        self.onion_on = False
        self._trail_key: tuple | None = None
        self._onion_key: tuple | None = None
        self.trails: dict[str, np.ndarray] = {}    # what is drawn: name -> (N, 3)
        self.onion_frames: dict[str, int] = {}     # "before"/"after" -> key frame drawn

    def update(self, body, motion, frame: int, visible: tuple[int, int],
               key_frames) -> bool:
        """Draw what is switched on for ``motion`` (as shown, on ``body``) at ``frame``,
        trails over the ``visible`` frames (first, last); True when anything changed."""
        changed = self._update_trails(body, motion, visible, tuple(key_frames))
        return self._update_onion(body, motion, frame, tuple(key_frames)) or changed

    def _update_trails(self, body, motion, visible, key_frames: tuple) -> bool:
        key = (id(body), motion, tuple(visible), key_frames) if self.trails_on else None
        if key == self._trail_key:
            return False
        self._trail_key = key
        for name in list(self.trails):
            self._plotter.remove_actor(f"trail_{name}", reset_camera=False)
            self._plotter.remove_actor(f"trail_{name}_keys", reset_camera=False)
        self.trails = trail_points(body, motion, *visible) if self.trails_on else {}
        import pyvista as pv

        first, last = visible
        keys = np.array([k for k in key_frames if first <= k <= last], np.intp)
        for name, points in self.trails.items():
            if len(points) < 2:
                continue
            tip = name.endswith("tip")
            self._plotter.add_mesh(pv.lines_from_points(points), color=TRAIL_COLOURS[name],
                                   line_width=2 if tip else 3, name=f"trail_{name}",
                                   reset_camera=False, pickable=False, lighting=False)
            if len(keys) and not tip:
                # The keys as beads on the wrist's path (the trail spreads its points
                # evenly over the range: the nearest one to each key).
                at = np.round((keys - first) / max(last - first, 1) * (len(points) - 1))
                self._plotter.add_mesh(pv.PolyData(points[at.astype(np.intp)]),
                                       color=TRAIL_COLOURS[name], point_size=9,
                                       render_points_as_spheres=True,
                                       name=f"trail_{name}_keys", reset_camera=False,
                                       pickable=False)
        return True

    def _update_onion(self, body, motion, frame: int, key_frames: tuple) -> bool:
        before, after = neighbour_keys(key_frames, frame) if self.onion_on else (None, None)
        key = (id(body), motion, before, after) if self.onion_on else None
        if key == self._onion_key:
            return False
        self._onion_key = key
        for which in list(self.onion_frames):
            self._plotter.remove_actor(f"onion_{which}", reset_camera=False)
        self.onion_frames = {which: k for which, k in (("before", before), ("after", after))
                             if k is not None and k < motion.num_frames}
        if self.onion_frames:
            import pyvista as pv

            frames = np.array(list(self.onion_frames.values()))
            vertices = body.forward(motion, frames=frames).vertices
            faces = arm_faces(body)
            cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
            for (which, _), posed in zip(self.onion_frames.items(), vertices):
                self._plotter.add_mesh(pv.PolyData(np.asarray(posed, np.float32), cells),
                                       color=ONION_COLOURS[which], opacity=ONION_OPACITY,
                                       name=f"onion_{which}", reset_camera=False,
                                       pickable=False, smooth_shading=False)
        return True
