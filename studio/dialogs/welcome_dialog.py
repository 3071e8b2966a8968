"""The first-run screen: what the studio can do, and an example to open.

Shown once, at the first launch (``maybe_welcome``, recorded in the window's settings);
Help > Welcome shows it again. "Sign an example" generates HELLO in American Sign
Language the way the Text tab does (the letters it needs are fitted in the background,
with progress), so a new user sees signing without typing anything.
"""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout

#: The settings key that records the screen was shown.
WELCOME_KEY = "welcome/shown"
#: The example: text and sign language.
EXAMPLE = ("hello", "ase")

WELCOME_HTML = """
<h2>Welcome to Sign Studio</h2>
<p>Sign Studio makes signing avatars from text, sign notation and recordings, and lets
you refine them like an animator.</p>
<ul>
<li><b>Text to signing</b>: type words on the Text tab, choose a sign language, press
Generate. Words without a sign are fingerspelled; Swiss German Sign Language signs are
made from HamNoSys notation.</li>
<li><b>Refine</b>: drag keyframes on the timeline, drag a hand in the 3D view, pick another
take of a span (Ctrl+T), lock or mute a track (M and L beside its name).</li>
<li><b>See the motion</b>: trails (T), onion skin (O), the curve view (C), and a reference
video beside the avatar (Ctrl+R).</li>
<li><b>Faces</b>: grammatical presets and markers on the face rows, mouthing per sign.</li>
<li><b>Export</b>: video (MP4, GIF, WebM) and motion files (SMPL-X, BVH, glTF, .pose,
SiGML) from File &gt; Export.</li>
</ul>
<p>Help &gt; Keyboard shortcuts (F1) lists every key; Help &gt; Read me explains more.</p>
"""


class WelcomeDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Sign Studio")
        text = QLabel(WELCOME_HTML)
        text.setWordWrap(True)
        self.example = QPushButton("Sign an example: HELLO in American Sign Language")
        self.example.setToolTip("Generates HELLO (fingerspelled in ASL) as a new project")
        self.example.setDefault(True)
        self.empty = QPushButton("Start with an empty project")
        self.empty.setToolTip("Close this screen; Help > Welcome shows it again")
        buttons = QDialogButtonBox()
        buttons.addButton(self.example, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.empty, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.example.clicked.connect(self.accept)
        self.empty.clicked.connect(self.reject)
        self.setMinimumWidth(560)
        self.adjustSize()


def show_welcome(window) -> WelcomeDialog:
    """Open the welcome screen over ``window`` (a MainWindow); its example button
    generates ``EXAMPLE`` there."""
    dialog = WelcomeDialog(window)

    def sign_example() -> None:
        text, language = EXAMPLE
        window.prompt.text.setText(text)
        index = window.prompt.language.findData(language)
        if index >= 0:
            window.prompt.language.setCurrentIndex(index)
        window.lexicon_actions.generate(text, language)

    dialog.accepted.connect(sign_example)
    dialog.show()
    return dialog


def maybe_welcome(window) -> WelcomeDialog | None:
    """The welcome screen at the first launch only (recorded in ``window.qsettings``)."""
    if window.qsettings.value(WELCOME_KEY, False, type=bool):
        return None
    window.qsettings.setValue(WELCOME_KEY, True)
    return show_welcome(window)
