"""The main window's parts, one concern each, wired together by ``studio.main_window``.

- ``layout``: where the panels sit (prompt and lexicon left, viewport centre,
  properties right, timeline below).
- ``menus``: the menu bar and its shortcuts.
- ``job_status``: the running job's title, progress and Cancel in the status bar.
- ``project_files``: new, open, import a recording, save, recent files, autosave and
  crash recovery.
- ``lexicon_actions``: generating from text, the lexicon browser, inserting a sign,
  adding a video to the lexicon, finding a sign from a photo.
- ``timeline_drags``: the timeline's keyframe, hold and stretch drags turned into edits.
- ``edit_actions``: the Edit menu's keyframe commands and the notation edit.

The parts share a ``WindowContext`` (``context``): the Document, the job runner, the
playback, the keyframe drag, the timeline, and the window as ``Host``, through which
every part asks the user things and reports, so tests answer those questions in one
place. The widget packages still never import each other.
"""
