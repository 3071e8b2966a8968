"""Exports: rendering (pyvista, imported lazily) and, later, video and motion files."""
