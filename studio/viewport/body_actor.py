"""BodyActor: one body mesh in a pyvista scene, re-posed in place each frame.

The VTK objects (polydata, points, normals, mapper, actor) are built once per body
model; a new pose writes into the existing points and normals arrays and marks them
modified, so VTK re-uploads two small buffers and builds nothing.

Normals are ours (numpy), not VTK's: ``vtkPolyDataNormals`` takes ~4.6 ms on the
13,718-vertex default avatar, this ~1.3 ms, and pyvista's ``smooth_shading`` would shade
a copy of the mesh that in-place point updates never reach. Without normals VTK would
shade faceted.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from engine.export.render import vertex_colours


class VertexNormals:
    """Smooth vertex normals of a fixed triangle topology.

    Each vertex gets the sum of its triangles' (area-weighted) normals, as one sparse
    (V, T) product, then unit length. Built once per topology.
    """

    def __init__(self, faces: np.ndarray, num_vertices: int):
        """``faces``: (T, 3) vertex indices; ``num_vertices``: V."""
        faces = np.asarray(faces, np.int64)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise ValueError(f"faces: expected (T, 3) vertex indices, got {faces.shape}")
        # One contiguous index array per corner: gathering x, y and z separately from
        # them is ~5x faster than vertices[faces] followed by np.cross.
        self._corners = [np.ascontiguousarray(faces[:, i]) for i in range(3)]
        rows = faces.ravel()
        cols = np.repeat(np.arange(len(faces)), 3)
        self._incidence = sparse.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(num_vertices, len(faces)))

    def __call__(self, vertices: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) float32 unit normals of ``vertices`` (V, 3) metres, into ``out`` if given.

        A vertex used by no triangle (or only degenerate ones) gets (0, 0, 0).
        """
        x, y, z = (np.asarray(vertices[:, axis], np.float32) for axis in range(3))
        a, b, c = self._corners
        e1x, e1y, e1z = x[b] - x[a], y[b] - y[a], z[b] - z[a]
        e2x, e2y, e2z = x[c] - x[a], y[c] - y[a], z[c] - z[a]
        face_normals = np.stack([e1y * e2z - e1z * e2y,
                                 e1z * e2x - e1x * e2z,
                                 e1x * e2y - e1y * e2x], axis=1)
        normals = self._incidence @ face_normals
        lengths = np.sqrt(np.einsum("ij,ij->i", normals, normals))
        normals /= np.maximum(lengths, 1e-12)[:, None]
        if out is None:
            return normals.astype(np.float32, copy=False)
        out[:] = normals
        return out


class BodyActor:
    """A body model's mesh in ``plotter`` (a pyvista Plotter or QtInteractor)."""

    def __init__(self, plotter, body):
        """Adds the mesh of ``body`` (a BodyModel: ``faces`` (T, 3), ``num_vertices``,
        optional ``vertex_region`` (V,) for colours) at its rest shape (all zeros until
        the first ``pose``)."""
        import pyvista as pv

        self.body = body
        self.num_vertices = int(body.num_vertices)
        faces = np.asarray(body.faces, np.int64)
        self._normals = VertexNormals(faces, self.num_vertices)
        cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
        self.mesh = pv.PolyData(np.zeros((self.num_vertices, 3), np.float32), cells)
        self.mesh.point_data["colour"] = vertex_colours(body)
        self.mesh.point_data.set_array(np.zeros((self.num_vertices, 3), np.float32), "Normals")
        self.mesh.point_data.active_normals_name = "Normals"
        # Views onto the VTK arrays' own memory: writing into them is the whole update.
        self._points_vtk = self.mesh.GetPoints().GetData()
        self._normals_vtk = self.mesh.GetPointData().GetArray("Normals")
        from vtkmodules.util.numpy_support import vtk_to_numpy

        self._points_view = vtk_to_numpy(self._points_vtk)
        self._normals_view = vtk_to_numpy(self._normals_vtk)
        self.actor = plotter.add_mesh(self.mesh, scalars="colour", rgb=True,
                                      interpolation="phong", specular=0.15, diffuse=0.85,
                                      ambient=0.2, reset_camera=False, name="body")
        self._plotter = plotter

    def recolour(self) -> None:
        """The body's colours again (``vertex_colours``: the saved clothing colours)."""
        self.mesh.point_data["colour"] = vertex_colours(self.body)
        self.mesh.Modified()

    def pose(self, vertices: np.ndarray) -> None:
        """Show ``vertices`` (V, 3) metres: copies them and their normals into VTK."""
        vertices = np.asarray(vertices, np.float32)
        if vertices.shape != (self.num_vertices, 3):
            raise ValueError(f"vertices: expected ({self.num_vertices}, 3) for "
                             f"{getattr(self.body, 'name', 'this body')}, got {vertices.shape}")
        self._points_view[:] = vertices
        self._normals(vertices, out=self._normals_view)
        self._points_vtk.Modified()
        self._normals_vtk.Modified()
        self.mesh.GetPoints().Modified()  # bounds (camera clipping range) follow the pose

    @property
    def points(self) -> np.ndarray:
        """(V, 3) float32 metres: what VTK draws now (a read-only copy)."""
        return self._points_view.copy()

    def remove(self) -> None:
        self._plotter.remove_actor(self.actor, reset_camera=False)
