"""Sign Studio engine: a Qt-free library for sign motion (SMPL-X parameters).

Sub-packages: ``motion`` (data types, rotations, project files), ``body`` (body
models that turn a Motion into meshes and joint positions). Nothing here imports Qt.
"""
__version__ = "0.1.0"
