"""Splicing one sign into a project: insert it at a frame (the lexicon browser's
"insert at playhead") or replace a sign with another (a segment's notation edited).

The sign comes in as an isolated clip (rest -> sign -> rest, as a lexicon entry or the
synthesiser makes it). Where the project has frames before it, only the clip's
articulation span is used and a transition is generated into it from the frame before;
likewise after it (the same policy as ``assemble``). At the project's start (end) the
clip keeps its own rise from (drop to) rest. Frames outside the spliced range are kept
bit for bit, shifted by the change in length; so are the keyframes and segments there.
The sign's postures become keyframes. The result is one new Project: the studio
applies it as one undoable ``ReplaceProject``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.generate.assemble import clip_articulation_span, regenerate_in_place
from engine.generate.timing import Timing
from engine.motion.markers import retimed_spans
from engine.motion.motion import Motion
from engine.motion.project import Keyframe, Project, Segment, SegmentKind
from engine.motion.resample import resample


def splice_sign(project: Project, start: int, stop: int, sign: Motion, *, gloss: str,
                language: str, kind: SegmentKind = SegmentKind.LEXICON, notation: str = "",
                sign_keys: tuple[int, ...] = (), timing: Timing | None = None) -> Project:
    """``project`` with frames ``[start, stop)`` replaced by ``sign`` (see the module
    docstring). ``sign_keys``: frames of ``sign`` to pin as keyframes (its postures);
    where its articulation begins and ends is always pinned. Segments overlapping the
    range go; the new segment covers the articulation (and its hold), never the rise
    or drop."""
    total = project.motion.num_frames
    if not 0 <= start <= stop <= total:
        raise ValueError(f"splice: expected 0 <= start <= stop <= {total}, got {start}, {stop}")
    fps = project.motion.fps
    timing = timing or Timing(fps=fps)
    if sign.num_frames == 0:
        raise ValueError("splice: the sign has no frames")
    source_fps = sign.fps
    sign = resample(sign.replace(betas=project.motion.betas), fps)
    scale = fps / source_fps
    keys_in_sign = sorted({min(sign.num_frames - 1, int(round(k * scale))) for k in sign_keys})
    before, after = start > 0, stop < total
    span = clip_articulation_span(sign)
    # Frames of the clip used: its articulation, plus its own rise (drop) where the
    # project has nothing before (after) it. The segment is the articulation only.
    first = span[0] if before else 0
    last = span[1] if after else sign.num_frames
    # No still hold after the sign: a frozen avatar reads as a fault (the fluency
    # issue); a hold is what the user writes (``retime.set_segment_hold``).
    hold = 0
    piece = timing.notation if kind is SegmentKind.NOTATION else timing.sign
    transition = timing.frames(piece.transition)
    core = sign.slice(first, last)
    pieces: list[Motion] = []
    gaps: list[tuple[int, int]] = []
    cursor = 0
    if before:
        pieces.append(project.motion.slice(0, start))
        cursor = start
        if transition:
            pieces.append(Motion.concatenate([core.frame(0)] * transition))
            gaps.append((cursor, cursor + transition))
            cursor += transition
    clip_start = cursor  # where frame ``first`` of the clip lands
    pieces.append(Motion.concatenate([core] + [core.frame(core.num_frames - 1)] * hold))
    cursor += core.num_frames + hold
    sign_start = clip_start + span[0] - first
    sign_end = clip_start + span[1] - first + hold
    if after:
        if transition:
            pieces.append(Motion.concatenate([core.frame(core.num_frames - 1)] * transition))
            gaps.append((cursor, cursor + transition))
            cursor += transition
        pieces.append(project.motion.slice(stop, total))
    motion = Motion.concatenate(pieces)
    arrays = {name: array.copy() for name, array in motion.frame_arrays().items()}
    for gap in gaps:
        regenerate_in_place(arrays, motion.betas, fps, gap, "smooth")
    motion = Motion(**arrays, betas=motion.betas, fps=fps)
    shift = cursor - stop  # frames after the range move by this much
    keyframes = [k for k in project.keyframes if k.frame < start]
    keyframes += [replace(k, frame=k.frame + shift) for k in project.keyframes
                  if k.frame >= stop]
    # The sign's postures, and where its clip begins and ends inside the range (a rest
    # frame at the project's start or end); kept keys lie outside [start, cursor).
    wanted = {clip_start + k - first for k in keys_in_sign if first <= k < last}
    wanted |= {sign_start, sign_end - 1}
    keyframes += [Keyframe.from_motion(motion, frame, generated=True) for frame in sorted(wanted)]
    keyframes.sort(key=lambda k: k.frame)
    segments = [s for s in project.segments if s.end <= start]
    segments.append(Segment(gloss, language, sign_start, sign_end, hold, kind, notation))
    segments += [replace(s, start=s.start + shift, end=s.end + shift)
                 for s in project.segments if s.start >= stop]

    def warp(frame: int) -> int:  # what the new sign replaced closes up at its start
        return frame if frame <= start else frame + shift if frame >= stop else start

    markers = retimed_spans(project.markers, warp, motion.num_frames)
    contacts = retimed_spans(project.contacts, warp, motion.num_frames)
    return project.replace(motion=motion, keyframes=tuple(keyframes),
                           segments=tuple(segments), markers=markers, contacts=contacts)


def insertion_range(project: Project, frame: int) -> tuple[int, int]:
    """Where a sign inserted at ``frame`` goes: the transition between the signs around
    the playhead (replaced by transition, sign, transition); inside a sign, after it.
    A motion without signs is cut at ``frame``."""
    segments = sorted(project.segments, key=lambda s: s.start)
    total = project.motion.num_frames
    if not segments:
        frame = min(max(frame, 0), total)
        return frame, frame
    for segment in segments:
        if segment.start <= frame < segment.end:
            frame = segment.end
            break
    previous = [s for s in segments if s.end <= frame]
    following = [s for s in segments if s.start >= frame]
    start = previous[-1].end if previous else 0
    stop = following[0].start if following else total
    return start, stop


def is_blank(project: Project) -> bool:
    """A project with nothing in it yet: no signs, no keyframes, every frame the
    same (a new document's rest pose)."""
    motion = project.motion
    return not project.segments and not project.keyframes and all(
        np.array_equal(array, array[:1].repeat(len(array), axis=0))
        for array in motion.frame_arrays().values())


def insert_sign(project: Project, frame: int, sign: Motion, **details) -> Project:
    """``sign`` inserted at ``frame`` (``insertion_range``); ``details`` as for
    ``splice_sign``. Into a blank project (``is_blank``) the sign becomes the whole
    motion, from rest to rest."""
    if is_blank(project):
        return splice_sign(project, 0, project.motion.num_frames, sign, **details)
    start, stop = insertion_range(project, frame)
    return splice_sign(project, start, stop, sign, **details)


def inserted_index(project: Project, frame: int) -> int:
    """The index, among the segments of ``insert_sign(project, frame, ...)``, of the
    sign inserted (segments are kept in time order)."""
    if is_blank(project):
        return 0
    start, _ = insertion_range(project, frame)
    return sum(1 for s in project.segments if s.end <= start)


def replace_segment(project: Project, index: int, sign: Motion, **details) -> Project:
    """Segment ``index`` replaced by ``sign`` together with the transitions that joined
    it to its neighbours (regenerated for the new sign)."""
    segments = sorted(project.segments, key=lambda s: s.start)
    target = project.segments[index]
    position = segments.index(target)
    start = segments[position - 1].end if position > 0 else 0
    stop = segments[position + 1].start if position + 1 < len(segments) \
        else project.motion.num_frames
    return splice_sign(project, start, stop, sign, **details)
