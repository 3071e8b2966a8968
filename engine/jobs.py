"""Progress reporting and cancellation for slow engine work.

A slow engine function takes ``progress`` and ``cancel`` keyword arguments and stays
Qt-free; the CLI feeds it a text progress bar, the studio a JobRunner that forwards to
the GUI thread. Cancellation is cooperative: the function calls
``cancel.raise_if_cancelled()`` between units of work and cleans up on ``Cancelled``.
"""
from __future__ import annotations

import threading
from typing import Protocol


class Cancelled(Exception):
    """Raised inside a job when its CancelToken was cancelled."""


class CancelToken:
    """Thread-safe flag a caller sets to ask a running job to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class Progress(Protocol):
    """Called as ``progress(done, total, message)``; ``total`` may be 0 when unknown."""

    def __call__(self, done: int, total: int, message: str = "") -> None: ...


def no_progress(done: int, total: int, message: str = "") -> None:
    """The default Progress: report nothing."""




def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when ``parent_pid`` does, even if the parent is
    killed with SIGKILL and never shuts its pool down: on Linux the kernel sends us
    SIGKILL then (``prctl(PR_SET_PDEATHSIG)``); elsewhere nothing is set. Call it first
    thing in a worker (a process pool's ``initializer``)."""
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the request took hold
        os._exit(1)
