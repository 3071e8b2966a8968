"""The 3D viewport (the only studio package that touches VTK)."""
from studio.viewport.viewport_widget import ViewportWidget

__all__ = ["ViewportWidget"]
