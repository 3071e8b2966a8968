"""Where the panels sit: the prompt and the lexicon browser as tabs on the left, the 3D
viewport with the transport bar in the centre, the properties on the right, and the
timeline along the bottom. The centre and the timeline take the space a resize gives.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget


def no_viewport_placeholder() -> QLabel:
    """Stands where the viewport would be on a platform without OpenGL."""
    placeholder = QLabel("The 3D viewport needs an OpenGL display.\n"
                         "(This session runs without one; everything else works.)")
    placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
    placeholder.setStyleSheet("background: #eef0f4; color: #555")
    return placeholder


def main_layout(*, prompt: QWidget, browser: QWidget, viewport: QWidget | None,
                transport: QWidget, properties: QWidget, timeline: QWidget,
                curves: QWidget | None = None, reference: QWidget | None = None
                ) -> QSplitter:
    """The window's central widget holding every panel (``viewport`` None: a note);
    ``curves`` (the curve view) under the timeline, hidden until the user shows it;
    ``reference`` (a reference video) beside the viewport, hidden until one is opened."""
    centre = QWidget()
    column = QVBoxLayout(centre)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    view = viewport if viewport is not None else no_viewport_placeholder()
    if reference is not None:
        beside = QSplitter(Qt.Orientation.Horizontal)
        beside.addWidget(view)
        beside.addWidget(reference)
        beside.setStretchFactor(0, 2)
        beside.setStretchFactor(1, 1)
        view = beside
    column.addWidget(view, 1)
    column.addWidget(transport)
    top = QSplitter(Qt.Orientation.Horizontal)
    left_tabs = QTabWidget()
    left_tabs.addTab(prompt, "Text")
    left_tabs.addTab(browser, "Lexicon")
    top.addWidget(left_tabs)
    top.addWidget(centre)
    top.addWidget(properties)
    top.setStretchFactor(0, 0)
    top.setStretchFactor(1, 1)
    top.setStretchFactor(2, 0)
    top.setSizes([300, 800, 330])
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(top)
    split.addWidget(timeline)
    split.setStretchFactor(0, 1)
    split.setSizes([640, 200])
    if curves is not None:
        split.addWidget(curves)
        curves.hide()
    return split
