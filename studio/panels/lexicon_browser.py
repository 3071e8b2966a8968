"""The lexicon browser: the signs of the current sign language, searchable by gloss,
word or source, and one of them inserted at the playhead.

The list comes from the job lane (``LexiconService.list_signs``) through
``set_entries``; inserting asks the main window (``insert_requested``), which fetches
the sign on the lane and splices it in as one undo step.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

_COLUMNS = ("Gloss", "Words", "Made from")


def _rank(entry, needle: str) -> int | None:
    """How well an entry matches a search (lower is better), None when it does not:
    1 gloss or word exactly, 2 one starting with it, 3 containing it (source too)."""
    names = [entry.gloss.lower(), *entry.words]
    if needle in names:
        return 1
    if any(name.startswith(needle) for name in names):
        return 2
    if any(needle in name for name in names + [entry.source.lower()]):
        return 3
    return None


class LexiconBrowser(QWidget):
    """``insert_requested(entry_id, gloss)``: put that sign at the playhead."""

    insert_requested = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._entries: list = []
        layout = QVBoxLayout(self)
        self.heading = QLabel("<b>Lexicon</b>")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search gloss, word or source…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Find signs by gloss, spoken word or source")
        self.search.textChanged.connect(self._filter)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda *_: self._insert())
        self.count = QLabel()
        buttons = QHBoxLayout()
        self.insert = QPushButton("Insert at playhead")
        self.insert.setEnabled(False)
        self.insert.setToolTip("Put the selected sign at the playhead, with transitions "
                               "made to the signs around it (Ctrl+Z undoes it)")
        self.insert.clicked.connect(self._insert)
        buttons.addWidget(self.count, 1)
        buttons.addWidget(self.insert)
        layout.addWidget(self.heading)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def set_entries(self, language_label: str, entries: list) -> None:
        """Show ``entries`` (lexicon ``EntrySummary`` of signs) of one language."""
        self._entries = list(entries)
        self.heading.setText(f"<b>Lexicon</b>: signs of {language_label}")
        self.table.setRowCount(len(self._entries))
        for row, entry in enumerate(self._entries):
            made_from = "notation" if entry.notation else entry.source_kind
            values = (entry.gloss, ", ".join(entry.words), f"{made_from}: {entry.source}")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, entry.id)
                item.setToolTip(entry.licence if column == 2 else value)
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(0)
        self._filter(self.search.text())

    def show_message(self, text: str) -> None:
        self.heading.setText(f"<b>Lexicon</b>: {text}")

    def visible_glosses(self) -> list[str]:
        return [self._entries[row].gloss for row in range(self.table.rowCount())
                if not self.table.isRowHidden(row)]

    def select_gloss(self, gloss: str) -> bool:
        for row, entry in enumerate(self._entries):
            if entry.gloss == gloss and not self.table.isRowHidden(row):
                self.table.selectRow(row)
                return True
        return False

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        shown = 0
        for row, entry in enumerate(self._entries):
            hidden = bool(needle) and _rank(entry, needle) is None
            self.table.setRowHidden(row, hidden)
            shown += not hidden
        if needle:  # best matches first: the word itself, then words starting with it
            order = sorted(range(len(self._entries)),
                           key=lambda r: (_rank(self._entries[r], needle) or 9, r))
            self._reorder(order)
        self.count.setText(f"{shown} of {len(self._entries)} signs")
        self._on_selection()

    def _reorder(self, order: list[int]) -> None:
        """Put the rows in ``order`` (indices into the current entries)."""
        self._entries = [self._entries[r] for r in order]
        hidden = [self.table.isRowHidden(r) for r in order]
        items = [[self.table.takeItem(r, c) for c in range(len(_COLUMNS))] for r in order]
        for row, (cells, hide) in enumerate(zip(items, hidden)):
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
            self.table.setRowHidden(row, hide)

    def _selected(self):
        rows = [i.row() for i in self.table.selectionModel().selectedRows()]
        rows = [r for r in rows if not self.table.isRowHidden(r)]
        return self._entries[rows[0]] if rows else None

    def _on_selection(self) -> None:
        self.insert.setEnabled(self._selected() is not None)

    def _insert(self) -> None:
        entry = self._selected()
        if entry is not None:
            self.insert_requested.emit(entry.id, entry.gloss)
