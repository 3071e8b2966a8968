"""PromptPanel: text in, sign language, Generate, and the coverage report.

Also the drop target for media: a video becomes a new lexicon entry (reconstructed by
a job), a photo of a handshape looks the sign up. What counts as a video or an image is
the engine's file-format registry's answer. The panel only emits intents; the main
window runs the jobs.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTextBrowser, QVBoxLayout, QWidget,
)

from engine.io import Kind, format_for, suffixes
from engine.io.formats import UnknownFormat

_KIND_STYLE = {
    "lexicon": ("#2e7d32", "sign"),
    "fingerspelled": ("#1565c0", "fingerspelled"),
    "missing": ("#c62828", "missing"),
}


def coverage_html(report: dict) -> str:
    """The coverage report as short HTML: one line per word, coloured by how it is signed."""
    lines = []
    for token in report.get("tokens", []):
        colour, label = _KIND_STYLE.get(token.get("kind", ""), ("#444", token.get("kind", "")))
        glosses = " ".join(token.get("glosses", []))
        line = (f"<b>{html.escape(token.get('text', ''))}</b> "
                f"<span style='color:{colour}'>{label}</span>")
        if glosses:
            line += f": {html.escape(glosses)}"
        if token.get("note"):
            line += f" <i>({html.escape(token['note'])})</i>"
        lines.append(line)
    counts = report.get("counts", {})
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    return "<br>".join(lines) + (f"<hr><small>{html.escape(summary)}</small>" if summary else "")


class PromptPanel(QWidget):
    generate_requested = Signal(str, str)   # text, language code
    language_changed = Signal(str)
    video_dropped = Signal(str)
    image_dropped = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMinimumWidth(260)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Type words to sign, e.g. HELLO")
        self.text.installEventFilter(self)
        self.text.setToolTip("Words to sign: signs from the lexicon where there are, "
                             "fingerspelled otherwise")
        self.text.returnPressed.connect(self._request)
        self.language = QComboBox()
        self.language.setToolTip("Sign language (those with an alphabet in the lexicon)")
        self.language.currentIndexChanged.connect(
            lambda _: self.language_changed.emit(self.language_code() or ""))
        self.generate_button = QPushButton("Generate")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Sign the text (Enter); asks before replacing "
                                        "unsaved edits")
        self.generate_button.clicked.connect(self._request)
        self.report = QTextBrowser()
        self.report.setMinimumHeight(70)
        self.report.setPlaceholderText(
            "The coverage report appears here: which words are signed from the lexicon, "
            "which are fingerspelled, which are missing.\n\nDrop a video of one sign here "
            "to add it to the lexicon.")
        # The language on a row of its own: its full name ("Swiss German Sign Language
        # (sgg)") does not fit beside the button in the panel's width.
        row = QHBoxLayout()
        row.addWidget(QLabel("in"))
        row.addWidget(self.language, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Text to sign</b>"))
        layout.addWidget(self.text)
        layout.addLayout(row)
        layout.addWidget(self.generate_button)
        layout.addWidget(self.report, 1)

    def set_languages(self, codes: list[str], labels: dict[str, str], current: str) -> None:
        self.language.blockSignals(True)
        self.language.clear()
        for code in codes:
            self.language.addItem(labels.get(code, code), code)
        index = self.language.findData(current)
        self.language.setCurrentIndex(index if index >= 0 else 0)
        self.language.blockSignals(False)
        self.generate_button.setEnabled(bool(codes))
        if codes:
            self.language_changed.emit(self.language_code() or "")

    def eventFilter(self, watched, event) -> bool:
        # Ctrl+Z in the text field undoes its typing while there is typing to undo, and
        # otherwise the project's last edit (the field would swallow the key for nothing).
        if (watched is self.text and event.type() == QEvent.Type.ShortcutOverride
                and event.matches(QKeySequence.StandardKey.Undo)
                and not self.text.isUndoAvailable()):
            event.ignore()
            return True
        return super().eventFilter(watched, event)

    def language_code(self) -> str | None:
        return self.language.currentData()

    def show_request(self, text: str, language: str) -> None:
        """Fill in what a project was generated from (its ``Origin``), so Generate makes
        it again; a language the lexicon does not offer leaves the choice as it is."""
        self.text.setText(text)
        index = self.language.findData(language)
        if index >= 0:
            self.language.setCurrentIndex(index)

    def set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy and self.language.count() > 0)
        self.generate_button.setText("Generating…" if busy else "Generate")

    def show_report(self, report: dict) -> None:
        self.report.setHtml(coverage_html(report))

    def show_html(self, text: str) -> None:
        """A report already in HTML (e.g. find-sign's candidates with their pictures)."""
        self.report.setHtml(text)

    def show_message(self, text: str) -> None:
        # One paragraph per line, so multi-line reports (e.g. two image routes) stay apart.
        self.report.setHtml("".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines()))

    def _request(self) -> None:
        text, code = self.text.text().strip(), self.language_code()
        if not text:
            self.show_message("Type some words first, e.g. HELLO.")
            return
        if not code:
            self.show_message("No sign language available: the lexicon has no alphabet yet. "
                              "Build it with `signstudio-cli lexicon build`.")
            return
        self.generate_requested.emit(text, code)

    # ------------------------------------------------------------ drops
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            self.handle_dropped_file(url.toLocalFile())
        event.acceptProposedAction()

    def handle_dropped_file(self, path: str) -> None:
        try:
            kind = format_for(path, (Kind.VIDEO, Kind.IMAGE), "read").kind
        except UnknownFormat:
            self.show_message(
                f"{Path(path).name}: drop a video ({', '.join(suffixes(Kind.VIDEO, 'read'))}) "
                f"to add a sign to the lexicon, or a photo of a handshape "
                f"({', '.join(suffixes(Kind.IMAGE, 'read'))}) to find its sign.")
            return
        (self.video_dropped if kind is Kind.VIDEO else self.image_dropped).emit(path)


__all__ = ["PromptPanel", "coverage_html", "Qt"]
