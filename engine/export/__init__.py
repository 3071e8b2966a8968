"""Exports: off-screen rendering (pyvista/VTK, the only engine package that touches it),
video, glTF, BVH, .pose and SMPL-X motion files, thumbnails and contact sheets."""
