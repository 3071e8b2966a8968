"""Finding a main window's menu entries the way a user does: by the menu's and the
entry's text (with their & accelerators)."""


def menu_action(window, menu: str, text: str):
    """The QAction ``text`` of the menu bar's menu ``menu`` (e.g. "&View")."""
    entries = next(a.menu() for a in window.menuBar().actions() if a.text() == menu)
    return next(a for a in entries.actions() if a.text() == text)
