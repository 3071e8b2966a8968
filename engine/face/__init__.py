"""The signing face: non-manual markers, mouthing, and the face they make over a motion.

``engine.motion.markers`` holds what is saved (markers, mouthing words); this package
turns them into blendshape weights and head, eye, jaw and shoulder rotations
(``perform``), turns words into phonemes (``phonemes``) and holds the grammatical
presets (``presets``).
"""
