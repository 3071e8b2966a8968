"""Motion data: SMPL-X parameter sequences, keyframes, segments, projects, rotations."""
from engine.motion.errors import MotionError, ProjectFileError
from engine.motion.face import FACE_BLENDSHAPE_INDEX, FACE_BLENDSHAPE_NAMES
from engine.motion.motion import ALL_CHANNELS, CHANNEL_FIELDS, Channel, Motion
from engine.motion.project import (
    PROJECT_SCHEMA_VERSION, AvatarChoice, Keyframe, Origin, Project, Segment, SegmentKind,
)
from engine.motion.project_io import load_project, save_project
from engine.motion.resample import resample

__all__ = [
    "ALL_CHANNELS", "CHANNEL_FIELDS", "Channel", "Motion", "MotionError", "ProjectFileError",
    "FACE_BLENDSHAPE_INDEX", "FACE_BLENDSHAPE_NAMES", "PROJECT_SCHEMA_VERSION",
    "AvatarChoice", "Keyframe", "Origin", "Project", "Segment", "SegmentKind",
    "load_project", "save_project", "resample",
]
