"""The one undo command: an engine edit operation on the Document's project.

All project changes go through ``EditCommand`` so that every one is undoable and undo
is exact: the engine's ``apply(op, project)`` returns the inverse op, and ``Project``
values share their arrays, so keeping both sides costs little.

The command reads and writes the project through two functions it is given (the
Document passes its own), so it needs nothing of the Document and the Document can
import it without a cycle.

Merging (``mergeWith``): consecutive commands with the same non-empty ``merge_key``
(e.g. nudging one keyframe's pose with a slider) fold into one undo step. Instead of
composing ops (which would need algebra per op type) the command keeps the list of
(op, inverse) pairs it applied; undo runs the inverses backwards.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from engine.motion.edits import Op, apply
from engine.motion.project import Project

_MERGE_ID = 0x5157  # any constant: Qt merges only commands whose id() match


class EditCommand(QUndoCommand):
    def __init__(self, read: Callable[[], Project], write: Callable[[Project], None],
                 op: Op, text: str, merge_key: str = ""):
        """``read()``: the project the op applies to; ``write(project)``: make the
        result (or, on undo, the restored project) the committed one."""
        super().__init__(text)
        self._read, self._write = read, write
        self._ops: list[Op] = [op]
        self._inverses: list[Op] = []
        self.merge_key = merge_key

    def id(self) -> int:
        return _MERGE_ID if self.merge_key else -1

    def redo(self) -> None:
        project = self._read()
        inverses = []
        for op in self._ops:
            project, inverse = apply(op, project)
            inverses.append(inverse)
        self._inverses = inverses
        self._write(project)

    def undo(self) -> None:
        project = self._read()
        for inverse in reversed(self._inverses):
            project, _ = apply(inverse, project)
        self._write(project)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCommand) or other.merge_key != self.merge_key:
            return False
        self._ops += other._ops
        self._inverses += other._inverses
        return True
