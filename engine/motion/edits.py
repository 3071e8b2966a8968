"""Small, frozen edit operations on a ``Project``: the engine half of undo.

Every operation is a value. ``apply(op, project)`` is pure: it returns the edited
project and the operation that undoes it, and never mutates ``project``. Because
``Motion`` shares untouched arrays, holding both the old and the new project (or a
stack of inverses) costs little. The studio wraps these in one generic
``EditCommand(QUndoCommand)``; tests check that ``apply(inverse)`` restores the original
exactly (``Project.equals``), so undo never drifts.

Operations
----------
``SetKey(keyframe)``        add the keyframe, or replace the one at its frame.
``DeleteKey(frame)``        remove the keyframe at ``frame``.
``MoveKey(from_frame, to_frame)``
                            retime a keyframe; its pose and channels travel with it.
``ReplaceRange(start, motion)``
                            overwrite motion frames ``[start, start + len(motion))`` on
                            every channel (how generation results land).
``ReplaceProject(project)`` swap in a whole project (a new generation from text).
``Macro(ops)``              several ops as one undo step, applied in order.

Frames are integer frame indices (0-based) of ``project.motion``. A bad operation
raises ``MotionError`` naming the frame(s) involved, and the input project is untouched.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.motion.errors import MotionError
from engine.motion.motion import Motion
from engine.motion.project import Keyframe, Project


def _check_frame(owner: str, name: str, value: object) -> None:
    # bool is an int subclass; a True frame is always a caller bug, not frame 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MotionError(f"{owner}.{name}: expected a frame index >= 0, got {value!r}")


def _check_inside(owner: str, frame: int, project: Project) -> None:
    last = project.motion.num_frames - 1
    if frame > last:
        raise MotionError(f"{owner}: frame {frame} is past the last frame {last} of the motion")


def _without_key(project: Project, frame: int) -> Project:
    return project.replace(keyframes=tuple(k for k in project.keyframes if k.frame != frame))


@dataclass(frozen=True, eq=False)
class SetKey:
    """Add ``keyframe`` (or replace the keyframe already at ``keyframe.frame``).

    Inverse: ``SetKey(old)`` when a keyframe was replaced, else ``DeleteKey(frame)``.
    """

    keyframe: Keyframe

    def __post_init__(self) -> None:
        if not isinstance(self.keyframe, Keyframe):
            raise MotionError(
                f"SetKey.keyframe: expected a Keyframe, got {type(self.keyframe).__name__}"
            )

    def _apply(self, project: Project) -> tuple[Project, Op]:
        frame = self.keyframe.frame
        _check_inside("SetKey", frame, project)
        if self.keyframe.pose.expression_dims != project.motion.expression_dims:
            raise MotionError(
                f"SetKey: keyframe at frame {frame} has {self.keyframe.pose.expression_dims} "
                f"expression coefficients, the motion has {project.motion.expression_dims}"
            )
        old = project.keyframe_at(frame)
        edited = _without_key(project, frame) if old is not None else project
        edited = edited.replace(keyframes=edited.keyframes + (self.keyframe,))
        return edited, (SetKey(old) if old is not None else DeleteKey(frame))


@dataclass(frozen=True)
class DeleteKey:
    """Remove the keyframe at ``frame``. Inverse: ``SetKey(removed keyframe)``."""

    frame: int

    def __post_init__(self) -> None:
        _check_frame("DeleteKey", "frame", self.frame)

    def _apply(self, project: Project) -> tuple[Project, Op]:
        old = project.keyframe_at(self.frame)
        if old is None:
            raise MotionError(f"DeleteKey: there is no keyframe at frame {self.frame}")
        return _without_key(project, self.frame), SetKey(old)


@dataclass(frozen=True)
class MoveKey:
    """Move the keyframe at ``from_frame`` to ``to_frame``, keeping pose and channels.

    Refuses to land on another keyframe (merging two constraints silently would lose
    one; the user deletes it first). Moving onto itself is a no-op.
    Inverse: ``MoveKey(to_frame, from_frame)``.
    """

    from_frame: int
    to_frame: int

    def __post_init__(self) -> None:
        _check_frame("MoveKey", "from_frame", self.from_frame)
        _check_frame("MoveKey", "to_frame", self.to_frame)

    def _apply(self, project: Project) -> tuple[Project, Op]:
        key = project.keyframe_at(self.from_frame)
        if key is None:
            raise MotionError(f"MoveKey: there is no keyframe at frame {self.from_frame}")
        if self.to_frame == self.from_frame:
            return project, MoveKey(self.from_frame, self.to_frame)
        _check_inside("MoveKey", self.to_frame, project)
        if project.keyframe_at(self.to_frame) is not None:
            raise MotionError(
                f"MoveKey: cannot move the keyframe at frame {self.from_frame} to frame "
                f"{self.to_frame}: frame {self.to_frame} already has a keyframe"
            )
        moved = _without_key(project, self.from_frame)
        moved = moved.replace(keyframes=moved.keyframes + (key.moved_to(self.to_frame),))
        return moved, MoveKey(self.to_frame, self.from_frame)


@dataclass(frozen=True, eq=False)
class ReplaceRange:
    """Overwrite frames ``[start, start + len(motion))`` of ``project.motion``.

    All channels are replaced; keyframes, segments, betas and fps are kept. ``motion``
    must have the project's fps and expression size (a mismatch means the slice came
    from somewhere else, e.g. an unresampled clip). Inverse: ``ReplaceRange(start,
    old frames)``, which restores them bit for bit.
    """

    start: int
    motion: Motion

    def __post_init__(self) -> None:
        _check_frame("ReplaceRange", "start", self.start)
        if not isinstance(self.motion, Motion):
            raise MotionError(
                f"ReplaceRange.motion: expected a Motion, got {type(self.motion).__name__}"
            )

    @property
    def stop(self) -> int:
        """One past the last replaced frame."""
        return self.start + self.motion.num_frames

    def _apply(self, project: Project) -> tuple[Project, Op]:
        total = project.motion.num_frames
        if self.stop > total:
            raise MotionError(
                f"ReplaceRange: frames [{self.start}, {self.stop}) run past the motion's "
                f"{total} frames (last frame {total - 1})"
            )
        if self.motion.fps != project.motion.fps:
            raise MotionError(
                f"ReplaceRange: replacement for frames [{self.start}, {self.stop}) is at "
                f"{self.motion.fps:g} fps, the motion at {project.motion.fps:g} fps"
            )
        old = project.motion.slice(self.start, self.stop)
        edited = project.replace(motion=project.motion.with_frames(self.start, self.motion))
        return edited, ReplaceRange(self.start, old)


@dataclass(frozen=True, eq=False)
class ReplaceProject:
    """Swap in a whole new project (e.g. a fresh generation from text, whose length
    differs). Inverse: ``ReplaceProject(old)``. Cheap: Motions share their arrays."""

    project: Project

    def __post_init__(self) -> None:
        if not isinstance(self.project, Project):
            raise MotionError(
                f"ReplaceProject.project: expected a Project, got {type(self.project).__name__}")

    def _apply(self, project: Project) -> tuple[Project, ReplaceProject]:
        return self.project, ReplaceProject(project)


@dataclass(frozen=True, eq=False)
class Macro:
    """Several operations applied in order as one undo step.

    Inverse: a Macro of the inverses in reverse order. If any step fails the whole
    macro fails (nothing is half-applied, since ``apply`` is pure) and the error says
    which step.
    """

    ops: tuple[Op, ...]

    def __post_init__(self) -> None:
        ops = tuple(self.ops)
        for index, op in enumerate(ops):
            if not isinstance(op, _OP_TYPES):
                raise MotionError(
                    f"Macro.ops[{index}]: expected an edit operation, got {type(op).__name__}"
                )
        object.__setattr__(self, "ops", ops)

    def _apply(self, project: Project) -> tuple[Project, Op]:
        inverses: list[Op] = []
        for index, op in enumerate(self.ops):
            try:
                project, inverse = op._apply(project)
            except MotionError as error:
                raise MotionError(
                    f"Macro step {index + 1} of {len(self.ops)} ({type(op).__name__}): {error}"
                ) from error
            inverses.append(inverse)
        return project, Macro(tuple(reversed(inverses)))


Op = SetKey | DeleteKey | MoveKey | ReplaceRange | ReplaceProject | Macro
_OP_TYPES = (SetKey, DeleteKey, MoveKey, ReplaceRange, ReplaceProject, Macro)


def apply(op: Op, project: Project) -> tuple[Project, Op]:
    """Apply ``op`` to ``project``: returns ``(edited project, inverse op)``.

    Pure: ``project`` is not changed, and ``apply(inverse, edited)[0].equals(project)``.
    Raises ``MotionError`` (naming the frame) when the op does not fit the project.
    """
    if not isinstance(op, _OP_TYPES):
        raise MotionError(f"apply: expected an edit operation, got {type(op).__name__}")
    if not isinstance(project, Project):
        raise MotionError(f"apply: expected a Project, got {type(project).__name__}")
    return op._apply(project)


def apply_all(ops: Iterable[Op], project: Project) -> tuple[Project, Op]:
    """Apply several ops as one step; the inverse is a ``Macro``."""
    return apply(Macro(tuple(ops)), project)
