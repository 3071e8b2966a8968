"""Assembly: tokens -> one Project on a timeline, with holds and generated transitions.

Each gloss of each token becomes a ``Segment`` holding its lexicon motion (resampled to
the project's fps), followed by ``hold`` frames of its last pose, so a fingerspelled
letter stays on screen long enough to read (PEERS.md: signers asked for holds between
letters). Between consecutive segments a transition of ``transition`` frames is
*generated* by the KF2P smooth in-betweener from the last frame of one sign to the first
frame of the next (never a cut; seed 001's discrete-to-continuous synthesis).
Keyframes are placed at each sign's onset, midpoint and offset (seed 003's policy), on
all channels, so later edits regenerate around what the lexicon says.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from engine.data.lexicon import LexiconStore
from engine.generate.kf2p import regenerate
from engine.generate.text import Token, TokenKind
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.motion import Motion
from engine.motion.project import Keyframe, Project, Segment, SegmentKind
from engine.motion.resample import resample


@dataclass(frozen=True)
class Timing:
    """Default durations in seconds (converted to frames at ``fps``)."""

    fps: float = 30.0
    letter_hold: float = 0.20       # a letter held still after it forms
    sign_hold: float = 0.05
    letter_transition: float = 0.15  # between two letters of one word
    sign_transition: float = 0.30    # between words/signs

    def frames(self, seconds: float) -> int:
        return max(0, int(round(seconds * self.fps)))


@dataclass(frozen=True)
class _Piece:
    gloss: str
    kind: SegmentKind
    motion: Motion
    hold: int
    transition_after: int  # frames of generated transition after this piece


def _pieces(tokens: Iterable[Token], store: LexiconStore, timing: Timing,
            progress: Progress, cancel: CancelToken | None) -> list[_Piece]:
    tokens = [t for t in tokens if t.kind is not TokenKind.MISSING]
    total = sum(len(t.glosses) for t in tokens)
    cache: dict[int, Motion] = {}
    pieces: list[_Piece] = []
    done = 0
    for token_index, token in enumerate(tokens):
        spelled = token.kind is TokenKind.FINGERSPELLED
        for gloss_index, (gloss, entry_id) in enumerate(zip(token.glosses, token.entry_ids)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if entry_id not in cache:
                cache[entry_id] = resample(store.get(entry_id).motion, timing.fps)
            last_in_token = gloss_index == len(token.glosses) - 1
            last_overall = last_in_token and token_index == len(tokens) - 1
            transition = 0 if last_overall else timing.frames(
                timing.letter_transition if spelled and not last_in_token
                else timing.sign_transition)
            pieces.append(_Piece(
                gloss=gloss,
                kind=SegmentKind.FINGERSPELLED if spelled else SegmentKind.LEXICON,
                motion=cache[entry_id],
                hold=timing.frames(timing.letter_hold if spelled else timing.sign_hold),
                transition_after=transition))
            done += 1
            progress(done, total, f"{gloss}")
    return pieces


def assemble(tokens: Iterable[Token], store: LexiconStore, language: str,
             timing: Timing = Timing(), *, progress: Progress = no_progress,
             cancel: CancelToken | None = None, title: str = "") -> Project:
    """Build the Project for ``tokens`` (MISSING tokens are skipped; the coverage
    report says so). Raises ValueError when nothing can be signed."""
    pieces = _pieces(tokens, store, timing, progress, cancel)
    if not pieces:
        raise ValueError("nothing to sign: every token is missing from the lexicon")
    betas = pieces[0].motion.betas
    parts: list[Motion] = []
    segments: list[Segment] = []
    gaps: list[tuple[int, int]] = []
    keyframe_frames: list[int] = []
    cursor = 0
    for piece in pieces:
        clip = piece.motion.replace(betas=betas)
        last = clip.frame(-1)
        body = Motion.concatenate([clip] + [last] * piece.hold)
        parts.append(body)
        start, clip_end = cursor, cursor + clip.num_frames
        end = clip_end + piece.hold
        segments.append(Segment(piece.gloss, language, start, end, piece.hold, piece.kind))
        keyframe_frames += [start, (start + clip_end - 1) // 2, clip_end - 1]
        cursor = end
        if piece.transition_after:
            # Placeholder frames (the held pose) that KF2P replaces below.
            parts.append(Motion.concatenate([last] * piece.transition_after))
            gaps.append((cursor, cursor + piece.transition_after))
            cursor += piece.transition_after
    motion = Motion.concatenate(parts)
    for gap in gaps:
        if cancel is not None:
            cancel.raise_if_cancelled()
        # No keyframes inside: the frames either side anchor a smooth transition.
        motion = regenerate(motion, [], gap, backend="smooth")[0]
    keyframes = tuple(Keyframe.from_motion(motion, f) for f in sorted(set(keyframe_frames)))
    return Project(motion=motion, keyframes=keyframes, segments=tuple(segments), title=title)


def transition_ranges(project: Project) -> list[tuple[int, int]]:
    """The generated (between-segment) frame ranges of an assembled project."""
    ranges = []
    for before, after in zip(project.segments, project.segments[1:]):
        if after.start > before.end:
            ranges.append((before.end, after.start))
    return ranges


def max_join_jump(motion: Motion, ranges: list[tuple[int, int]]) -> float:
    """Largest per-frame joint-rotation change (radians, as axis-angle difference)
    across the borders of ``ranges``: a cut would show as a large value here."""
    pose = motion.full_pose()
    jumps = [0.0]
    for start, stop in ranges:
        for a, b in ((start - 1, start), (stop - 1, stop)):
            if 0 <= a and b < motion.num_frames:
                jumps.append(float(np.abs(pose[b] - pose[a]).max()))
    return max(jumps)
