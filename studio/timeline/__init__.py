"""The timeline: ruler, segment track, keyframe tracks, playhead (QGraphicsView)."""
from studio.timeline.timeline_view import TRACKS, TimelineView

__all__ = ["TRACKS", "TimelineView"]
