"""Objects loaded from files (models, checkpoints), kept while the file is unchanged.

One helper for every "load once per file version" cache: the key is the file's resolved
path, size and modification time in nanoseconds, so a rewritten or replaced file is
loaded again and an unchanged one is not.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


def file_version(path: str | Path) -> tuple[str, int, int]:
    """(resolved path, size in bytes, modification time in ns) of ``path``; raises
    ``OSError`` when it cannot be read."""
    path = Path(path)
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


class FileCache(Generic[T]):
    """A thread-safe cache of ``load(path)`` results keyed by ``file_version``.

    ``max_entries``: how many file versions to keep (None: no limit); the least
    recently used goes first, before the new one is loaded, so that two large models
    do not sit in memory at once. A path that cannot be read is not cached: ``load``
    is called and reports the problem in its own words.
    """

    def __init__(self, max_entries: int | None = None):
        if max_entries is not None and max_entries < 1:
            raise ValueError(f"FileCache: max_entries must be >= 1 or None, got {max_entries}")
        self.max_entries = max_entries
        # (file versions, variant) -> object
        self._entries: OrderedDict[tuple, T] = OrderedDict()
        # Held while loading, so that two threads asking for one file load it once (loads
        # of different files wait for each other too: they are rare and large).
        self._lock = threading.Lock()

    def get(self, path: str | Path, load: Callable[[Path], T]) -> T:
        """The cached object for ``path``'s current version, loading it on a miss."""
        path = Path(path)
        return self.get_for((path,), lambda: load(path))

    def get_for(self, paths: Sequence[str | Path], load: Callable[[], T],
                variant: Hashable = None) -> T:
        """The cached object made from the current versions of ``paths`` together (a
        model's config and weights), and ``variant`` (how it is built from them, e.g. an
        architecture name); ``load()`` on a miss."""
        try:
            key = (tuple(file_version(path) for path in paths), variant)
        except OSError:
            return load()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            if self.max_entries is not None:
                while len(self._entries) >= self.max_entries:
                    self._entries.popitem(last=False)
            value = load()
            self._entries[key] = value
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
