"""Re-timing a project: change a segment's hold (the frames its last pose stays still).

A hold change alters the motion's length, so it cannot be a ``ReplaceRange``; the
studio lands it as ``ReplaceProject(set_segment_hold(...))``, one undo step. Qt-free.
"""
from __future__ import annotations

from engine.motion.errors import MotionError
from engine.motion.motion import Motion
from engine.motion.project import Project, Segment


def set_segment_hold(project: Project, index: int, hold: int) -> Project:
    """``project`` with segment ``index`` held for ``hold`` frames (>= 0).

    Growing the hold repeats the segment's last frame; shrinking it removes frames from
    the end of the hold. Everything after the segment (frames, later segments and
    keyframes) shifts by the difference, so nothing after it changes but its timing.
    Keyframes inside removed hold frames go with them (they pinned a held copy).
    Raises ``MotionError`` for a bad index or a negative hold.
    """
    if not 0 <= index < len(project.segments):
        raise MotionError(f"hold: there is no segment {index} (the project has "
                          f"{len(project.segments)})")
    if isinstance(hold, bool) or not isinstance(hold, int) or hold < 0:
        raise MotionError(f"hold: expected a whole number of frames >= 0, got {hold!r}")
    segment = project.segments[index]
    delta = hold - segment.hold
    if delta == 0:
        return project
    motion, end = project.motion, segment.end
    if end + delta <= segment.start:
        raise MotionError(f"hold: segment '{segment.gloss}' would have no frames left")
    if delta > 0:
        parts = [motion.slice(0, end)] + [motion.frame(end - 1)] * delta
    else:
        parts = [motion.slice(0, end + delta)]
    if end < motion.num_frames:
        parts.append(motion.slice(end, motion.num_frames))
    new_motion = Motion.concatenate(parts)

    removed = range(end + delta, end) if delta < 0 else range(0)
    keyframes = tuple(
        key.moved_to(key.frame + delta) if key.frame >= end else key
        for key in project.keyframes if key.frame not in removed)
    segments = []
    for number, other in enumerate(project.segments):
        if number == index:
            other = Segment(other.gloss, other.language, other.start, end + delta, hold,
                            other.kind)
        elif other.start >= end:
            other = Segment(other.gloss, other.language, other.start + delta,
                            other.end + delta, other.hold, other.kind)
        segments.append(other)
    return project.replace(motion=new_motion, keyframes=keyframes, segments=tuple(segments))
