"""Off-screen rendering of a posed body with pyvista/VTK (no window, no X server).

Without a display we ask VTK for an EGL render window before pyvista is first
imported (``VTK_DEFAULT_OPENGL_WINDOW``), which works on a headless machine with
Mesa's EGL; with a display VTK's default window is used.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import atomic_output
from engine.body.base import BodyModel
from engine.body.skeleton import JOINT_INDEX, wrist_heights_above_waist

#: Colours by ``vertex_region`` of the default avatar: skin, eyes, mouth, hair.
REGION_COLOURS = np.array(
    [[224, 178, 148], [245, 245, 240], [150, 70, 70], [70, 50, 40]], dtype=np.uint8)
SKIN_COLOUR = REGION_COLOURS[0]


def write_image(path: str | Path, pixels: np.ndarray) -> Path:
    """Write ``pixels`` ((H, W, 3) uint8 RGB) to ``path`` atomically, in the format its
    extension names (imageio): a crash or a full disk never leaves half a picture."""
    import imageio.v3 as iio

    path = Path(path)
    with atomic_output(path) as temp:
        iio.imwrite(temp, pixels)
    return path


def _import_pyvista():
    if not os.environ.get("DISPLAY") and "VTK_DEFAULT_OPENGL_WINDOW" not in os.environ:
        os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"
    import pyvista

    return pyvista


@dataclass(frozen=True)
class CameraPreset:
    """A named camera: viewing direction from the focus point and framing height.

    ``direction``: unit-ish vector from focus to camera (world, Y up, avatar faces +Z).
    ``height``: metres of the scene visible vertically; ``focus``: what to look at.
    """

    direction: tuple[float, float, float]
    height: float
    focus: str  # "upper_body" | "hands" | "face_hands" | "face" | "full_body"


CAMERA_PRESETS: dict[str, CameraPreset] = {
    "front": CameraPreset((0.0, 0.0, 1.0), 1.05, "upper_body"),
    "three_quarter": CameraPreset((0.6, 0.1, 0.8), 1.05, "upper_body"),
    "side": CameraPreset((1.0, 0.0, 0.0), 1.05, "upper_body"),
    "hands": CameraPreset((0.0, 0.15, 1.0), 0.55, "hands"),
    "face_hands": CameraPreset((0.0, 0.05, 1.0), 0.7, "face_hands"),
    "face": CameraPreset((0.0, 0.05, 1.0), 0.34, "face"),
    "full_body": CameraPreset((0.0, 0.0, 1.0), 2.0, "full_body"),
}


def focus_point(joints: np.ndarray, focus: str) -> np.ndarray:
    """Point to look at, from (F, 55, 3) or (55, 3) joints over the frames to be shown.

    "hands" and "face_hands": the middle of the box around what must stay in the
    picture over all frames (``framed_points``), so its far corners fit as well as its
    near ones; "full_body": the mean joint; "upper_body": the signing space between
    the chest and the chin."""
    joints = np.asarray(joints).reshape(-1, 55, 3)
    if focus in ("hands", "face_hands"):
        points = framed_points(joints, focus)
        return (points.min(axis=0) + points.max(axis=0)) / 2
    if focus == "full_body":
        return joints.mean(axis=(0, 1))
    if focus == "face":  # midway between the chin and the crown, over the frames
        return joints[:, JOINT_INDEX["head"]].mean(axis=0) + [0.0, (HEAD_TOP_M - CHIN_M) / 2, 0.0]
    # Signing space: between the chest and the chin.
    neck, spine3 = JOINT_INDEX["neck"], JOINT_INDEX["spine3"]
    return (0.6 * joints[:, neck] + 0.4 * joints[:, spine3]).mean(axis=0)


#: Metres above the head joint to the top of the head (the default avatar: 0.19 m;
#: SMPL-X's is about the same).
HEAD_TOP_M = 0.19
#: Metres below the head joint that a face close-up keeps (the chin: 0.08 m).
CHIN_M = 0.10


def framed_points(joints: np.ndarray, focus: str) -> np.ndarray:
    """(N, 3) points a "hands" or "face_hands" view keeps in the picture: the wrist and
    every finger joint of the hands in use (``signing_hands``' rule) in every frame, and
    for "face_hands" the head from chin to crown too."""
    joints = np.asarray(joints).reshape(-1, 55, 3)
    raised = (wrist_heights_above_waist(joints) > 0).any(axis=0)
    sides = [side for side, up in zip(("left", "right"), raised) if up] or ["left", "right"]
    ids = [JOINT_INDEX[f"{side}_wrist"] for side in sides] + [
        index for side in sides for index in range(JOINT_INDEX[f"{side}_index1"],
                                                   JOINT_INDEX[f"{side}_index1"] + 15)]
    points = joints[:, ids].reshape(-1, 3)
    if focus == "face_hands":
        head = joints[:, JOINT_INDEX["head"]]
        points = np.concatenate([points, head + [0.0, HEAD_TOP_M, 0.0],
                                 head - [0.0, CHIN_M, 0.0]])
    return points


def signing_hands(joints: np.ndarray) -> np.ndarray:
    """(F, K, 3) centres (metres; midway between the wrist and the middle finger's base)
    of the hands in use, K = 1 or 2.

    A hand is in use when its wrist rises above the waist (the spine1 joint) in any of
    the (F, 55, 3) ``joints``' frames; a hand that stays below it rests at the side.
    Why: one-handed fingerspelling leaves the other arm down, and aiming a close-up
    between both wrists (as this did before) showed the torso between them instead of
    the handshape. When no hand is raised (a rest pose), both count.
    """
    joints = np.asarray(joints).reshape(-1, 55, 3)
    wrists = joints[:, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]]]
    knuckles = joints[:, [JOINT_INDEX["left_middle1"], JOINT_INDEX["right_middle1"]]]
    centres = (wrists + knuckles) / 2
    raised = (wrist_heights_above_waist(joints) > 0).any(axis=0)
    return centres[:, raised] if raised.any() else centres


#: Metres kept around the framed points in the picture (a fingertip is up to 3 cm past
#: its last joint, and a hand should not touch the frame's edge).
FRAME_MARGIN_M = 0.06
#: The renderers' vertical view angle (degrees), the viewport's too.
VIEW_ANGLE_DEG = 30.0


def camera_distance(height: float) -> float:
    """Metres from the focus at which ``height`` metres fill the view vertically."""
    return height / 2 / np.tan(np.radians(VIEW_ANGLE_DEG / 2))


@dataclass(frozen=True, eq=False)
class PinholeCamera:
    """The perspective camera ``OffscreenRenderer.look_at`` sets up, in numpy: where a
    world point lands in the picture, and the ray behind a pixel (calibrating keypoint
    detectors on our own renders, and known-truth checks).

    ``rotation`` (3, 3): rows are the image's right, up and viewing direction (world);
    ``focal``: pixels; ``width`` x ``height``: the picture in pixels."""

    position: np.ndarray
    rotation: np.ndarray
    focal: float
    width: int
    height: int

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 2) pixels (x right, y down)."""
        local = (np.asarray(points, np.float64) - self.position) @ self.rotation.T
        xy = self.focal * local[..., :2] / local[..., 2:3]
        return np.stack([self.width / 2 + xy[..., 0], self.height / 2 - xy[..., 1]], -1)

    def rays(self, pixels: np.ndarray) -> np.ndarray:
        """(..., 2) pixels -> (..., 3) unit world directions from ``position``."""
        pixels = np.asarray(pixels, np.float64)
        local = np.stack([pixels[..., 0] - self.width / 2, self.height / 2 - pixels[..., 1],
                          np.full(pixels.shape[:-1], self.focal)], -1)
        world = local @ self.rotation
        return world / np.linalg.norm(world, axis=-1, keepdims=True)


def pinhole_camera(focus, direction, height_m: float, width: int, height: int) -> PinholeCamera:
    """The camera ``OffscreenRenderer(width, height).look_at(focus, direction, height_m)``
    renders through (VTK's view angle is vertical; up is +Y)."""
    direction = np.asarray(direction, np.float64)
    direction = direction / np.linalg.norm(direction)
    position = np.asarray(focus, np.float64) + camera_distance(height_m) * direction
    forward = -direction
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    focal = height / 2 / np.tan(np.radians(VIEW_ANGLE_DEG / 2))
    return PinholeCamera(position, np.stack([right, up, forward]), float(focal), width, height)


def hands_close_up_height(joints: np.ndarray, aspect: float, minimum: float,
                          focus: str = "hands", direction=(0.0, 0.0, 1.0)) -> float:
    """Metres of scene a "hands" (or "face_hands") view shows vertically (at its focus)
    so what it frames stays in it on every frame.

    ``joints`` (F, 55, 3) or (55, 3): all the frames the view will show (an utterance:
    its signs, so the camera frames the signing space once instead of following the
    current frame); ``aspect`` width / height of the view; ``minimum`` the preset's
    height; ``direction`` from the focus to the camera. The points (``framed_points``)
    are projected through the camera, perspective included (a hand nearer the camera
    looks bigger), and the height grows until each lies ``FRAME_MARGIN_M`` inside the
    picture's edge.
    """
    points = framed_points(joints, focus)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    forward = -np.asarray(direction, np.float64) / np.linalg.norm(direction)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    height = minimum
    for _ in range(4):  # the distance depends on the height: a few rounds settle it
        distance = camera_distance(height)
        relative = points - (centre - forward * distance)
        depth = np.maximum(relative @ forward, 1e-3)
        scale = distance / depth  # a point's offset, as seen at the focus's depth
        half_up = np.max((np.abs(relative @ up) + FRAME_MARGIN_M) * scale)
        half_across = np.max((np.abs(relative @ right) + FRAME_MARGIN_M) * scale) / aspect
        needed = 2 * max(half_up, half_across)
        if needed <= height:
            break
        height = needed
    return float(max(minimum, height))


def camera_view(preset: str, joints: np.ndarray, aspect: float
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """(focus (3,), unit direction from the focus to the camera (3,), metres shown
    vertically) of a camera preset aimed at ``joints`` (F or 1 frames) in a view of
    width / height ``aspect``: the one framing rule of the viewport and video export."""
    if preset not in CAMERA_PRESETS:
        raise ValueError(f"camera preset: expected one of {sorted(CAMERA_PRESETS)}, "
                         f"got {preset!r}")
    spec = CAMERA_PRESETS[preset]
    height = spec.height
    if spec.focus in ("hands", "face_hands"):
        height = hands_close_up_height(joints, aspect, height, spec.focus, spec.direction)
    direction = np.asarray(spec.direction, np.float64)
    return focus_point(joints, spec.focus), direction / np.linalg.norm(direction), height


def aim_frames_sample(num_frames: int, span: tuple[int, int] | None = None,
                      limit: int = 256) -> np.ndarray:
    """Up to ``limit`` frame indices spread over ``span`` (``[start, stop)``, default all
    ``num_frames``): the frames a camera is aimed over."""
    first, last = (0, num_frames - 1) if span is None else (span[0], span[1] - 1)
    first, last = max(0, min(first, num_frames - 1)), max(0, min(last, num_frames - 1))
    last = max(first, last)
    return np.unique(np.linspace(first, last, min(last - first + 1, limit)).round().astype(np.intp))


def saved_clothing() -> tuple[str | None, str | None]:
    """The clothing colours the user chose (settings ``top_colour``/``trousers_colour``),
    shared by the viewport, video and stills; the defaults when unset or damaged (the
    settings dialog and ``config show`` report a damaged value)."""
    from engine.settings import clothing_colours, load_settings

    try:
        return clothing_colours(load_settings())
    except ValueError:
        return None, None


def vertex_colours(body: BodyModel, clothing: tuple[str, str] | None = None) -> np.ndarray:
    """(V, 3) uint8 sRGB colour of each vertex: the default avatar's looks (eyes with
    iris and pupil, brows, lips, clothing in ``clothing`` = (top, trousers) "#rrggbb"
    colours, None each for the default; by default the user's ``saved_clothing``),
    else its baked regions, else skin (SMPL-X)."""
    looks = getattr(body, "look_regions", None)
    if looks is not None:
        from engine.body.appearance import look_colours

        return look_colours(*(clothing or saved_clothing()))[looks]
    regions = getattr(body, "vertex_region", None)
    if regions is not None:
        return REGION_COLOURS[np.minimum(regions, len(REGION_COLOURS) - 1)]
    return np.tile(SKIN_COLOUR, (body.num_vertices, 1))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) unit normals: area-weighted mean of the adjacent triangles' normals."""
    vertices = np.asarray(vertices)
    faces = np.asarray(faces)
    corners = vertices[faces]  # (T, 3, 3)
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    # Scatter-add each triangle's normal to its three corners. np.bincount does the
    # unbuffered sum in one C pass; np.add.at did the same ~5x slower (it was a third
    # of a video frame's time at 720p).
    corner_ids = faces.reshape(-1)
    normals = np.empty(vertices.shape, dtype=vertices.dtype)
    for axis in range(3):
        normals[:, axis] = np.bincount(corner_ids, weights=np.repeat(face_normals[:, axis], 3),
                                       minlength=len(vertices))
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(lengths, 1e-12)


#: Anti-aliasing choices for ``OffscreenRenderer``, best looking (and slowest) first.
#: (FXAA is not offered: VTK built with EGL falls back to SSAA for it.)
ANTI_ALIASING = ("ssaa", "msaa", "none")


class OffscreenRenderer:
    """Renders one body model's meshes to RGB images; build once, render many.

    The mesh is created once and its points are updated in place for each frame.
    """

    def __init__(self, body: BodyModel, width: int = 640, height: int = 480,
                 background: tuple[int, int, int] = (255, 255, 255),
                 anti_aliasing: str = "ssaa", clothing: tuple[str, str] | None = None,
                 colours: np.ndarray | None = None):
        """``clothing``: the default avatar's top and trousers colours ("#rrggbb"; None:
        the defaults, ``vertex_colours``); ``colours``: (V, 3) uint8 per-vertex colours
        instead (a calibration that must not depend on what it measures).
        ``anti_aliasing``: one of ``ANTI_ALIASING``. Costs per 1280x720 frame on Mesa's
        llvmpipe (2 cores): "ssaa" ~140 ms, "msaa" (4 samples) ~55 ms, "none" ~17 ms.
        Stills use "ssaa"; video picks its own.
        """
        if anti_aliasing not in ANTI_ALIASING:
            raise ValueError(f"anti_aliasing: expected one of {ANTI_ALIASING}, "
                             f"got {anti_aliasing!r}")
        pv = _import_pyvista()
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkCommonCore import vtkUnsignedCharArray

        self._pixels = vtkUnsignedCharArray()
        self._vtk_to_numpy = vtk_to_numpy
        self.body = body
        self.width, self.height = width, height
        # VTK's SSAA pass resamples its large render with wrap-around at the edges: the
        # picture's last column bleeds into its first (a grey line at the left edge of
        # every close-up that cuts the body at the right). The window is one column
        # wider on each side and ``render`` crops them; the camera's view angle is
        # vertical, so the kept columns frame exactly what a width-wide window would.
        self._margin = 1 if anti_aliasing == "ssaa" else 0
        self._plotter = pv.Plotter(off_screen=True,
                                   window_size=(width + 2 * self._margin, height))
        self._plotter.set_background([c / 255 for c in background])
        faces = np.asarray(body.faces, dtype=np.int64)
        cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
        rest = np.zeros((body.num_vertices, 3), np.float32)
        self._mesh = pv.PolyData(rest, cells)
        colours = vertex_colours(body, clothing) if colours is None else colours
        self._mesh.point_data["colour"] = colours
        self._faces = faces
        # Normals are ours (numpy) and set on this very dataset: pyvista's
        # smooth_shading would shade a copy, which in-place point updates never reach.
        self._mesh.point_data.set_array(np.zeros((body.num_vertices, 3), np.float32), "Normals")
        self._mesh.point_data.active_normals_name = "Normals"
        self._plotter.add_mesh(self._mesh, scalars="colour", rgb=True, interpolation="phong",
                               specular=0.15, diffuse=0.85, ambient=0.15)
        if anti_aliasing == "ssaa":
            self._plotter.enable_anti_aliasing("ssaa")
        elif anti_aliasing == "msaa":
            # Set on the window directly: pyvista's "msaa" path also toggles settings
            # that EGL windows warn about; 4 samples is what llvmpipe offers.
            self._plotter.ren_win.SetMultiSamples(4)
        else:
            self._plotter.ren_win.SetMultiSamples(0)

    def set_camera(self, preset: str, joints: np.ndarray) -> None:
        """Aim a camera preset (see ``CAMERA_PRESETS``) at ``joints`` (F or 1 frames)."""
        focus, direction, height = camera_view(preset, joints, self.width / self.height)
        self.look_at(focus, direction, height)

    def camera_gap(self, camera: PinholeCamera, points: np.ndarray) -> float:
        """Largest pixel disagreement between ``camera.project(points)`` (N, 3) and VTK's
        own projection of them through the current camera: the calibration tools check
        that ``pinhole_camera`` still matches the renderer before trusting it."""
        matrix = self._plotter.camera.GetCompositeProjectionTransformMatrix(
            self.width / self.height, -1.0, 1.0)
        m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
        h = np.c_[points, np.ones(len(points))] @ m.T
        ndc = h[:, :2] / h[:, 3:4]
        pixels = np.stack([(ndc[:, 0] + 1) * self.width / 2, (1 - ndc[:, 1]) * self.height / 2],
                          -1)
        return float(np.abs(pixels - camera.project(points)).max())

    def look_at(self, focus: np.ndarray, direction, height: float,
                up=(0.0, 1.0, 0.0)) -> None:
        """Look at ``focus`` from ``direction`` so ``height`` metres fill the view."""
        direction = np.asarray(direction, np.float64)
        direction /= np.linalg.norm(direction)
        camera = self._plotter.camera
        camera.view_angle = VIEW_ANGLE_DEG
        distance = camera_distance(height)
        camera.position = tuple(np.asarray(focus) + distance * direction)
        camera.focal_point = tuple(np.asarray(focus, np.float64))
        camera.up = tuple(up)
        self._plotter.renderer.ResetCameraClippingRange()

    def render(self, vertices: np.ndarray, normals: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) posed vertices -> (H, W, 3) uint8 RGB image.

        ``normals``: (V, 3) unit vertex normals if the caller already has them (video
        export computes them in another thread, ahead of the render); by default
        ``vertex_normals`` of ``vertices``.
        """
        vertices = np.asarray(vertices, np.float32)
        if normals is None:
            normals = vertex_normals(vertices, self._faces)
        self._mesh.points = vertices
        self._mesh.point_data["Normals"] = np.asarray(normals, np.float32)
        self._plotter.renderer.ResetCameraClippingRange()
        # Render the window ourselves: pyvista's plotter.render() is a no-op until its
        # first show()/screenshot(), which we never call.
        self._plotter.ren_win.Render()
        # Read the back buffer's RGB straight into a reused array: the same pixels as
        # pyvista's screenshot() (RGBA through vtkWindowToImageFilter) in ~60% of the
        # time, which matters at video rates. OpenGL rows run bottom-up, hence the flip.
        window_width = self.width + 2 * self._margin
        self._plotter.ren_win.GetPixelData(0, 0, window_width - 1, self.height - 1, 0,
                                           self._pixels, 0)
        image = self._vtk_to_numpy(self._pixels).reshape(self.height, window_width, 3)
        return image[::-1, self._margin:self._margin + self.width].copy()

    def close(self) -> None:
        self._plotter.close()

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
