"""Generation: keyframe-to-pose (KF2P) regeneration of frame ranges, with pluggable backends.

Qt-free like the rest of ``engine``; heavy backends (learned models) register
themselves in ``BACKENDS`` from the code that loads them.
"""
from engine.generate.kf2p import BACKENDS, Backend, as_edit, regenerate

__all__ = ["BACKENDS", "Backend", "as_edit", "regenerate"]
