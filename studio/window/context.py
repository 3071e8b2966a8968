"""What the main window's parts share: the window as the one place that asks the user
and reports (``Host``), and the collaborators every part works with
(``WindowContext``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from studio.document import Document
from studio.jobs import JobRunner
from studio.key_drag import KeyDragController
from studio.playback import PlaybackController
from studio.timeline import TimelineView


class Host(Protocol):
    """The main window as the parts see it: questions and messages to the user."""

    def show_error(self, title: str, text: str) -> None: ...

    def ask(self, title: str, text: str, buttons, default): ...

    def ask_text(self, title: str, label: str, default: str = "") -> str | None: ...

    def status_message(self, text: str, timeout_ms: int = 8000) -> None: ...


def confirm(host: Host, title: str, text: str, yes, no) -> bool:
    """Ask a yes-or-no question whose safe answer (``no``) is the default."""
    return host.ask(title, text, yes | no, no) == yes


@dataclass(frozen=True)
class WindowContext:
    """The window (``host``), the Document and the job runner, and the three things
    that follow the project as a whole: playback, the keyframe drag and the timeline."""

    host: Host
    document: Document
    runner: JobRunner
    playback: PlaybackController
    drag: KeyDragController
    timeline: TimelineView

    def hold_still(self) -> None:
        """Stop playback and drop a drag in progress, before the project they refer to
        is replaced or remade."""
        self.playback.pause()
        self.drag.cancel()
