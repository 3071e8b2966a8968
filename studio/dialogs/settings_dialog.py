"""SettingsDialog: the values shared with the CLI (``engine.settings``' JSON file).

SMPL-X model folder, default sign language, render quality, the tempo of signs made
from notation and the lexicon database.
One file for app and CLI, so ``signstudio-cli config show`` agrees with this dialog.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
    QLabel, QLineEdit, QPushButton, QVBoxLayout,
)

from engine.settings import SIGNING_SPEED_RANGE, Settings, clothing_colours, signing_speed

QUALITIES = ("draft", "high")


def smplx_folder_problem(folder: str) -> str:
    """'' when ``folder`` is empty or holds SMPLX_NEUTRAL.npz, else what is wrong."""
    if not folder:
        return ""
    root = Path(folder).expanduser()
    if not root.is_dir():
        return f"{root} is not a folder"
    if not any((root / sub / "SMPLX_NEUTRAL.npz").is_file() for sub in ("", "smplx")):
        return (f"No SMPL-X model in {root}: expected SMPLX_NEUTRAL.npz (from the SMPL-X "
                "download) in that folder or in its smplx/ subfolder. Leave it empty to "
                "use the embedded avatar.")
    return ""


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, languages: list[str], labels: dict[str, str],
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.smplx_dir = QLineEdit(settings.smplx_dir)
        self.smplx_dir.setPlaceholderText("not set: the embedded avatar is used")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.smplx_dir, 1)
        row.addWidget(browse)
        self.language = QComboBox()
        codes = list(languages)
        if settings.default_language not in codes:
            codes.insert(0, settings.default_language)
        for code in codes:
            self.language.addItem(labels.get(code, code), code)
        self.language.setCurrentIndex(self.language.findData(settings.default_language))
        self.quality = QComboBox()
        self.quality.addItems(QUALITIES)
        self.quality.setCurrentText(settings.render_quality if settings.render_quality in QUALITIES
                                    else "high")
        self.speed = QDoubleSpinBox()
        self.speed.setRange(*SIGNING_SPEED_RANGE)
        self.speed.setSingleStep(0.1)
        self.speed.setSuffix(" x")
        self.speed.setToolTip("Tempo of generated signing (letters, signs and signs made "
                              "from notation): 1 the default pace, 0.5 half as fast, 2 "
                              "twice as fast")
        try:
            self.speed.setValue(signing_speed(settings))
        except ValueError:  # a damaged value: offer the default
            self.speed.setValue(1.0)
        self.top_colour = QLineEdit(settings.top_colour)
        self.top_colour.setPlaceholderText("#3a4150 (default, dark slate)")
        self.trousers_colour = QLineEdit(settings.trousers_colour)
        self.trousers_colour.setPlaceholderText("#26282e (default, dark)")
        for box in (self.top_colour, self.trousers_colour):
            box.setToolTip("Colour of the avatar's clothing as #rrggbb; plain and dark "
                           "lets the hands stand out, as signers dress for video")
        self.lexicon = QLineEdit(settings.lexicon_path)
        self.lexicon.setPlaceholderText("default: the user data folder")
        self.photoreal_model = QLineEdit(settings.photoreal_model)
        self.photoreal_model.setPlaceholderText("none: videos show the avatar")
        self.photoreal_model.setToolTip("A model of you from `signstudio-cli train pgmm "
                                        "--video ...`: Export can then draw you signing")
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828")
        self.problem.setWordWrap(True)
        self.smplx_dir.textChanged.connect(lambda t: self.problem.setText(smplx_folder_problem(t)))
        self._base = settings
        form = QFormLayout()
        form.addRow("SMPL-X model folder", row)
        form.addRow("", self.problem)
        form.addRow("Default sign language", self.language)
        form.addRow("Render quality", self.quality)
        form.addRow("Signing speed", self.speed)
        form.addRow("Top colour", self.top_colour)
        form.addRow("Trousers colour", self.trousers_colour)
        form.addRow("Lexicon database", self.lexicon)
        form.addRow("Photoreal model", self.photoreal_model)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("<small>Shared with signstudio-cli (config show / set). "
                                "A new lexicon path applies at the next start.</small>"))
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "SMPL-X model folder", self.smplx_dir.text())
        if folder:
            self.smplx_dir.setText(folder)

    def settings(self) -> Settings:
        return self._base.replace(smplx_dir=self.smplx_dir.text().strip(),
                                  default_language=self.language.currentData() or "ase",
                                  render_quality=self.quality.currentText(),
                                  lexicon_path=self.lexicon.text().strip(),
                                  signing_speed=f"{self.speed.value():g}",
                                  top_colour=self.top_colour.text().strip(),
                                  trousers_colour=self.trousers_colour.text().strip(),
                                  photoreal_model=self.photoreal_model.text().strip())

    def _accept(self) -> None:
        problem = smplx_folder_problem(self.smplx_dir.text().strip())
        if not problem:
            try:
                clothing_colours(self.settings())
            except ValueError as error:
                problem = str(error)
        if problem:
            self.problem.setText(problem)
            return
        self.accept()
