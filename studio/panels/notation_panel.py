"""The selected sign's notation: its HamNoSys, editable, and its SignWriting.

HamNoSys is shown and typed as the standard symbol names ("flathand extfingero palmd
chest"): the symbols themselves sit in Unicode's private-use area and need a HamNoSys
font the user may not have, while names work on any keyboard (pasted symbols are
accepted too). Applying an edit asks the main window to make the sign again
(``submitted``); a string that cannot be made is underlined where it fails, the
message says what was expected, and nothing changes.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QTextEdit, QVBoxLayout, QWidget,
)

from engine.notation.symbols import to_names


class NotationPanel(QWidget):
    """Shows one segment's notation; ``submitted(index, text)`` asks to re-make it."""

    submitted = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._index: int | None = None
        self._shown = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("<b>Notation</b> (HamNoSys)")
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("e.g. flathand extfingero palmd chest moved")
        self.editor.setFixedHeight(74)
        self.editor.setToolTip("HamNoSys symbol names separated by spaces (or the symbols "
                               "themselves). Apply makes the sign again; Ctrl+Z undoes it.")
        self.editor.textChanged.connect(self._on_text_changed)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        buttons = QHBoxLayout()
        self.apply = QPushButton("Apply notation")
        self.apply.setToolTip("Make the sign again from this notation (one undo step)")
        self.apply.setEnabled(False)
        self.apply.clicked.connect(self._submit)
        self.revert = QPushButton("Revert")
        self.revert.setToolTip("Back to the sign's current notation")
        self.revert.setEnabled(False)
        self.revert.clicked.connect(self._revert)
        buttons.addWidget(self.apply)
        buttons.addWidget(self.revert)
        buttons.addStretch(1)
        self.signwriting = QLabel()
        self.signwriting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.signwriting.setMinimumHeight(0)
        layout.addWidget(self.title)
        layout.addWidget(self.editor)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.signwriting)

    # ------------------------------------------------------------ state
    def show_segment(self, index: int | None, notation: str, signwriting: str = "") -> None:
        """Show segment ``index``'s ``notation`` (HamNoSys symbols, "" for a recorded
        sign) and its SignWriting (FSW, "" for none)."""
        changed = index != self._index or notation != self._shown
        self._index = index
        if changed:
            self._shown = notation
            self.editor.blockSignals(True)
            self.editor.setPlainText(to_names(notation) if notation else "")
            self.editor.blockSignals(False)
            self._clear_error()
            self.apply.setEnabled(False)
            self.revert.setEnabled(False)
        self.title.setText("<b>Notation</b> (HamNoSys)" if notation else
                           "<b>Notation</b>: this sign was recorded, not written. Type "
                           "HamNoSys to make it from notation instead.")
        self._show_signwriting(signwriting)

    def _show_signwriting(self, fsw: str) -> None:
        if not fsw:
            self.signwriting.clear()
            self.signwriting.setText("<small>No SignWriting: the DSGS data has it only for "
                                     "its own notation.</small>" if self._shown else "")
            self.signwriting.setToolTip("")
            return
        from engine.notation.dsgs import signwriting_picture

        picture = signwriting_picture(fsw, 140)
        if picture is None:
            self.signwriting.setText("(SignWriting cannot be drawn)")
            return
        height, width, _ = picture.shape
        image = QImage(picture.tobytes(), width, height, 3 * width,
                       QImage.Format.Format_RGB888).copy()
        self.signwriting.setPixmap(QPixmap.fromImage(image))
        self.signwriting.setToolTip("SignWriting of this sign (from the DSGS data)")

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)

    # ------------------------------------------------------------ errors
    def show_error(self, message: str, span: tuple[int, int] | None) -> None:
        """Say why the text cannot be made and underline ``span`` (characters)."""
        self.message.setText(message)
        selections = []
        if span is not None:
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.editor.document())
            length = len(self.text())
            start = min(span[0], length)
            end = min(max(span[1], start), length)
            if start == end and start > 0:  # past the end: mark the last character
                start -= 1
            cursor.setPosition(start)
            cursor.setPosition(end if end > start else start + 1,
                               QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor("#d00000"))
            fmt.setBackground(QColor("#ffe4e4"))
            selection.cursor = cursor
            selection.format = fmt
            selections.append(selection)
        self.editor.setExtraSelections(selections)

    def _clear_error(self) -> None:
        self.message.clear()
        self.editor.setExtraSelections([])

    def error_text(self) -> str:
        return self.message.text()

    def underlined(self) -> str:
        """The characters underlined as wrong ("" when none), for tests."""
        selections = self.editor.extraSelections()
        return selections[0].cursor.selectedText() if selections else ""

    # ------------------------------------------------------------ actions
    def _on_text_changed(self) -> None:
        self._clear_error()
        edited = self.text().strip() != (to_names(self._shown) if self._shown else "")
        self.apply.setEnabled(self._index is not None and bool(self.text().strip()) and edited)
        self.revert.setEnabled(edited)

    def _submit(self) -> None:
        if self._index is not None:
            self.submitted.emit(self._index, self.text())

    def _revert(self) -> None:
        self.editor.setPlainText(to_names(self._shown) if self._shown else "")
