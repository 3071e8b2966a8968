"""Help: the keyboard shortcuts (read from the menus themselves, so the list cannot go
stale), the README, and what this installation is."""
from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenuBar, QTextBrowser, QVBoxLayout


def shortcut_rows(menubar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, command, shortcuts) for every menu entry that has a keyboard shortcut."""
    rows = []
    for menu_action in menubar.actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        for action in menu.actions():
            keys = [key.toString() for key in action.shortcuts() if not key.isEmpty()]
            if keys and action.text():
                rows.append((menu.title().replace("&", ""), action.text().replace("&", ""),
                             " or ".join(keys)))
    return rows


def shortcuts_html(rows: list[tuple[str, str, str]]) -> str:
    cells = "".join(f"<tr><td>{html.escape(menu)}</td><td>{html.escape(command)}</td>"
                    f"<td><b>{html.escape(keys)}</b></td></tr>" for menu, command, keys in rows)
    return ("<h3>Keyboard shortcuts</h3><table cellpadding='4'><tr><th align='left'>Menu</th>"
            f"<th align='left'>Command</th><th align='left'>Keys</th></tr>{cells}</table>"
            "<p>Drag a keyframe on the timeline to move it; drag a sign block's edge to "
            "change its hold. Drop a video on the text panel to add a sign, or a photo of a "
            "handshape to find one.</p>")


def readme_markdown() -> str:
    """The README this installation was built from (the package's long description,
    so it is there offline and in a wheel)."""
    from importlib import metadata

    try:
        description = metadata.metadata("sign-studio")
    except metadata.PackageNotFoundError:
        return "# Sign Studio\n\nThe README is not installed with this copy."
    return description.get_payload() or description.get("Description") or "# Sign Studio"


def about_html() -> str:
    import engine
    from engine.assets import assets_dir
    from engine.settings import settings_path

    return (f"<h3>Sign Studio {html.escape(engine.__version__)}</h3>"
            "<p>A desktop avatar studio for sign language: text, notation and recordings to "
            "3D signing on SMPL-X parameters, edited on a timeline and exported as video "
            "or motion files.</p>"
            f"<p>Settings: {html.escape(str(settings_path()))}<br>"
            f"Embedded assets: {html.escape(str(assets_dir()))}</p>"
            "<p>Code under the Apache-2.0 licence; the assets' sources and licences are in "
            "the assets folder's README.</p>")


class HelpDialog(QDialog):
    """A read-only page: HTML or Markdown text with a Close button."""

    def __init__(self, title: str, text: str, markdown: bool = False, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.page = QTextBrowser()
        self.page.setOpenExternalLinks(True)
        (self.page.setMarkdown if markdown else self.page.setHtml)(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        layout.addWidget(buttons)
        self.resize(640, 560)
