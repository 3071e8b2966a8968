"""The menu bar: File, Edit, Face, View and Help, with their shortcuts and status tips.

Menus only trigger the window's parts (``window.files``, ``window.edit_actions``, the
playback and the timeline); what each command does lives there.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

Keys = QKeySequence.StandardKey


def add_action(menu: QMenu, owner: QMainWindow, text: str, slot, shortcut=None,
               tip: str = "") -> QAction:
    """A menu entry that calls ``slot()`` (without Qt's ``checked`` argument)."""
    action = QAction(text, owner)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _=False: slot())
    menu.addAction(action)
    return action


def build_menus(window) -> None:
    """Fill ``window``'s menu bar (a ``studio.main_window.MainWindow``)."""
    menus = window.menuBar()
    files, edits, doc = window.files, window.edit_actions, window.document

    file = menus.addMenu("&File")
    add_action(file, window, "&New", files.new_project, Keys.New)
    add_action(file, window, "&Open…", files.open_project, Keys.Open)
    add_action(file, window, "&Import recording…", files.import_recording, "Ctrl+I",
               "Open a video, .pose or motion file as a new project, with keyframes at "
               "each sign found in it")
    file.addMenu(files.recent_menu)
    add_action(file, window, "&Save", files.save, Keys.Save)
    add_action(file, window, "Save &As…", files.save_as, "Ctrl+Shift+S")
    file.addSeparator()
    add_action(file, window, "&Export…", window.open_export_dialog, "Ctrl+E")
    add_action(file, window, "Se&ttings…", window.open_settings)
    file.addSeparator()
    add_action(file, window, "&Quit", window.close, Keys.Quit)

    edit = menus.addMenu("&Edit")
    undo = doc.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcut(QKeySequence("Ctrl+Z"))
    redo = doc.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    edit.addAction(undo)
    edit.addAction(redo)
    edit.addSeparator()
    add_action(edit, window, "Add &keyframe at playhead", edits.add_key_at_playhead, "K")
    add_action(edit, window, "&Delete keyframe or face marker",
               lambda: window.face_actions.delete_selected_marker() or edits.delete_selected_key(),
               Keys.Delete)
    add_action(edit, window, "&Copy keyframes", edits.copy_key, Keys.Copy,
               "The selected key's pose; several selected: the keys with their motion")
    add_action(edit, window, "&Paste keyframes at playhead", edits.paste_key, Keys.Paste)
    add_action(edit, window, "Select &all keyframes",
               doc.select_all_keys,
               "Ctrl+Shift+A", "Shift+click adds a key to the selection; a drag over empty "
               "tracks selects the keys in the box; the bracket's ends scale the selection")
    edit.addSeparator()
    add_action(edit, window, "&Mirror keyframe left ↔ right", edits.mirror_selected_key, "M",
               "The selected key's pose as its mirror image: the other hand signs it")
    add_action(edit, window, "Other &takes of this span…", window.takes.draw, "Ctrl+T",
               "The learned in-betweener draws the motion between the keys around the "
               "playhead again, several ways: step through them and keep one")
    add_action(edit, window, "&Hold a hand on the body…", edits.hold_contact, "Ctrl+H",
               "Keep a fingertip or the wrist on a body site (chin, chest …) over a span of "
               "frames: the arm moves to keep it there through every later edit")
    add_action(edit, window, "Release hand holds at the playhead", edits.release_contacts,
               tip="Stop holding the contacts that cover the playhead's frame")
    add_action(edit, window, "Mirror the whole project (left-handed signer)",
               edits.mirror_project, tip="Every frame and key mirrored left ↔ right")

    faces = window.face_actions
    face_menu = menus.addMenu("F&ace")
    presets = face_menu.addMenu("Apply grammatical &preset to the selected sign")
    presets.setStatusTip("Non-manual markers of a construction (question, negation, topic, "
                         "conditional) over the selected sign; adjust them on the face rows")
    presets.aboutToShow.connect(lambda: faces.fill_presets_menu(presets))
    add_action(face_menu, window, "&Save markers over the selected sign as a preset…",
               faces.save_preset)
    add_action(face_menu, window, "Marker &intensity…", faces.set_intensity, "I",
               "The selected face marker's strength, 0 to 100 %")
    mouthing = add_action(face_menu, window, "&Mouthing", faces.toggle_mouthing, None,
                          "Play the words the signs are mouthed with (each sign's word is "
                          "set on its properties page)")
    mouthing.setCheckable(True)
    face_menu.aboutToShow.connect(lambda: mouthing.setChecked(doc.project.mouthing))

    view = menus.addMenu("&View")
    playback, timeline = window.playback, window.timeline
    add_action(view, window, "&Play / pause", playback.toggle, "Space")
    add_action(view, window, "Previous frame", lambda: playback.step(-1), "Left")
    add_action(view, window, "Next frame", lambda: playback.step(1), "Right")
    add_action(view, window, "First frame", lambda: doc.set_frame(0), "Home")
    add_action(view, window, "Last frame",
               lambda: doc.set_frame(doc.project.motion.num_frames - 1), "End")
    view.addSeparator()
    add_action(view, window, "Zoom timeline in",
               lambda: timeline.set_zoom(timeline.pixels_per_frame * 1.25), "Ctrl+=")
    add_action(view, window, "Zoom timeline out",
               lambda: timeline.set_zoom(timeline.pixels_per_frame * 0.8), "Ctrl+-")
    add_action(view, window, "Fit timeline", timeline.fit_to_width, "Ctrl+0")
    curves = add_action(view, window, "&Curve view",
                        lambda: window.curves.setVisible(not window.curves.isVisible()), "C",
                        "The selected joint's rotation over time with its keys, under the "
                        "timeline (the Joint box on a key's page chooses the joint)")
    curves.setCheckable(True)
    view.aboutToShow.connect(lambda: curves.setChecked(window.curves.isVisible()))
    add_action(view, window, "&Reference video…", window.open_reference_video, "Ctrl+R",
               "A recording beside the viewport, showing the frame at the playhead's time")
    if window.viewport is not None:
        view.addSeparator()
        for label, preset, key in (("Front", "front", "1"), ("Side", "side", "2"),
                                   ("Hands close-up", "hands", "3"),
                                   ("Face and hands", "face_hands", "4"),
                                   ("Face close-up", "face", "5")):
            add_action(view, window, f"Camera: {label}",
                       lambda p=preset: window.viewport.set_camera(p), key)
        view.addSeparator()
        viewport, guides = window.viewport, window.viewport.guides
        trails = add_action(view, window, "Motion &trails",
                            lambda: viewport.set_guides(trails=not guides.trails_on), "T",
                            "The paths of the wrists and index fingertips over the frames "
                            "the timeline shows")
        onion = add_action(view, window, "&Onion skin",
                           lambda: viewport.set_guides(onion=not guides.onion_on), "O",
                           "Faint copies of the avatar at the keys before and after the "
                           "playhead")
        gizmo = window.rotate_gizmo
        rings = add_action(view, window, "&Rotate gizmo", lambda: gizmo.set_on(not gizmo.on),
                           "R", "Rings around the joint chosen in the properties panel: drag "
                           "one to turn the joint about that axis (a key is set on release)")
        for action in (trails, onion, rings):
            action.setCheckable(True)
        view.aboutToShow.connect(lambda: (trails.setChecked(guides.trails_on),
                                          onion.setChecked(guides.onion_on),
                                          rings.setChecked(gizmo.on)))

    help_menu = menus.addMenu("&Help")
    add_action(help_menu, window, "&Keyboard shortcuts", lambda: show_help(window, "shortcuts"),
               Keys.HelpContents, "Every command that has a key, read from these menus")
    add_action(help_menu, window, "&Read me", lambda: show_help(window, "readme"),
               tip="The README: what Sign Studio does and how to use it")
    add_action(help_menu, window, "&Welcome…", lambda: show_welcome(window),
               tip="What Sign Studio can do, and an example to open")
    add_action(help_menu, window, "&About Sign Studio", lambda: show_help(window, "about"))


def show_welcome(window):
    from studio.dialogs.welcome_dialog import show_welcome as open_welcome

    return open_welcome(window)


def show_help(window, page: str):
    """Open a Help page ("shortcuts", "readme" or "about"); returns the dialog."""
    from studio.dialogs.help_dialog import (HelpDialog, about_html, readme_markdown,
                                            shortcut_rows, shortcuts_html)

    title, text, markdown = {
        "shortcuts": ("Keyboard shortcuts", lambda: shortcuts_html(shortcut_rows(window.menuBar())),
                      False),
        "readme": ("Read me", readme_markdown, True),
        "about": ("About Sign Studio", about_html, False),
    }[page]
    dialog = HelpDialog(title, text(), markdown=markdown, parent=window)
    dialog.show()
    return dialog

