"""The Edit menu's keyframe commands (add, delete, copy, paste; on one key or on the
timeline's selection of several) and the notation edit from the properties panel,
each landing as one undo step.

Deleting and pasting a keyframe change what pins the motion, so the span between the
neighbouring keys is regenerated with KF2P on the job lane first (``EditLane``); the
regenerated frames flash on the timeline when the edit lands.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from engine.generate.key_edits import KeyEdit, delete_key_edit, pasted_key, set_key_edit
from engine.generate.key_selection import (
    KeyBlock, copy_keys, delete_keys_edit, paste_keys_edit,
)
from engine.motion.edits import ReplaceProject, SetKey
from engine.motion.contacts import ContactLock
from engine.motion.errors import MotionError
from engine.motion.project import Keyframe
from engine.settings import Settings
from studio.dialogs.contact_dialog import ContactDialog
from studio.jobs import JobHandle
from studio.key_drag import EditLane
from studio.panels.notation_panel import NotationPanel
from studio.window.context import WindowContext


class EditActions:
    """Keyframe commands at the playhead or on the selected key, and notation edits.

    ``settings()``: the settings now (their signing speed times a notation edit);
    ``body``: the avatar signs made from notation are made for.
    """

    def __init__(self, ctx: WindowContext, edits: EditLane, notation: NotationPanel, *,
                 settings: Callable[[], Settings], body):
        self._ctx = ctx
        self._edits = edits
        self._notation = notation
        self._settings = settings
        self._body = body
        # One copied key (pasted as a pose), or a copied selection with its motion.
        self._clipboard: Keyframe | KeyBlock | None = None
        self.contact_dialog: ContactDialog | None = None
        notation.submitted.connect(self.edit_notation)

    def _report_regenerated(self, what: str, edit: KeyEdit, how: str) -> None:
        start, stop = edit.frame_range
        self._ctx.host.status_message(f"{what}; frames {start}–{stop - 1} (shaded) were "
                                      f"regenerated {how} (Ctrl+Z undoes)")
        self._ctx.timeline.flash_range(start, stop)

    # ------------------------------------------------------------ keyframes
    def add_key_at_playhead(self) -> None:
        doc = self._ctx.document
        frame = doc.frame
        if doc.committed_project.keyframe_at(frame) is not None:
            doc.select_key(frame)
            self._ctx.host.status_message(f"Frame {frame} already has a keyframe")
            return
        key = Keyframe.from_motion(doc.committed_project.motion, frame)
        doc.apply_edit(SetKey(key), f"Add keyframe at {frame}")
        doc.select_key(frame)

    def delete_selected_key(self) -> JobHandle | None:
        """Delete the selected key; the span between its neighbours is regenerated with
        KF2P on the job lane and lands with the deletion as one undo step."""
        frame = self._ctx.document.selected_key
        if frame is None:
            self._ctx.host.status_message("Select a keyframe to delete (click a diamond)")
            return None
        selection = sorted(self._ctx.document.selected_keys)
        if len(selection) > 1:
            def landed_all(edit: KeyEdit) -> None:
                self._report_regenerated(f"Deleted {len(selection)} keyframes", edit,
                                         "between the keys that stay")

            text = f"Delete {len(selection)} keyframes ({selection[0]}–{selection[-1]})"
            return self._edits.submit(text, text, delete_keys_edit, selection,
                                      on_landed=landed_all)

        def landed(edit: KeyEdit) -> None:
            self._report_regenerated(f"Deleted the keyframe at frame {frame}", edit,
                                     "between its neighbours")

        return self._edits.submit(f"Delete keyframe {frame}", f"Delete keyframe at {frame}",
                                  delete_key_edit, frame, on_landed=landed)

    def copy_key(self) -> None:
        """Copy the selected key's pose, or (several selected) the keys with the motion
        from the first to the last of them."""
        doc = self._ctx.document
        frame = doc.selected_key
        key = None if frame is None else doc.project.keyframe_at(frame)
        if key is None:
            self._ctx.host.status_message("Select a keyframe to copy")
            return
        selection = sorted(doc.selected_keys)
        if len(selection) > 1:
            self._clipboard = copy_keys(doc.project, selection)
            self._ctx.host.status_message(
                f"Copied {len(selection)} keyframes with frames {selection[0]}–{selection[-1]}"
                f" ({self._clipboard.length} frames); Ctrl+V pastes them at the playhead")
            return
        self._clipboard = key
        self._ctx.host.status_message(f"Copied the keyframe at {frame}")

    def paste_key(self) -> JobHandle | None:
        """Paste the copied key at the playhead; the span between its new neighbours is
        regenerated on the job lane so the motion passes through it (one undo step)."""
        if self._clipboard is None:
            self._ctx.host.status_message("Nothing to paste: copy a keyframe first")
            return None
        doc = self._ctx.document
        if isinstance(self._clipboard, KeyBlock):
            return self._paste_block(self._clipboard, doc.frame)
        try:
            key = pasted_key(self._clipboard, doc.frame, doc.committed_project)
        except MotionError as error:
            self._ctx.host.status_message(str(error))
            return None

        def landed(edit: KeyEdit) -> None:
            if doc.project.keyframe_at(key.frame) is not None:
                doc.select_key(key.frame)
            self._report_regenerated(f"Pasted the keyframe at frame {key.frame}", edit,
                                     "through it")

        return self._edits.submit(f"Paste keyframe at {key.frame}",
                                  f"Paste keyframe at {key.frame}", set_key_edit, key,
                                  on_landed=landed)

    def _paste_block(self, block: KeyBlock, at: int) -> JobHandle | None:
        """Copied keys and their motion written from frame ``at``; keys already there are
        replaced, the gaps to the keys around are regenerated (one undo step)."""
        doc = self._ctx.document
        last = at + block.length - 1
        frames_here = doc.committed_project.motion.num_frames
        if block.length > frames_here:
            self._ctx.host.status_message(
                f"The copied {block.length} frames are longer than this project's "
                f"{frames_here}: nothing was pasted")
            return None
        if last >= frames_here:
            self._ctx.host.status_message(
                f"The copied {block.length} frames do not fit from frame {at}: move the "
                f"playhead to frame {doc.committed_project.motion.num_frames - block.length} "
                "or earlier")
            return None
        frames = [at + k.frame for k in block.keys]

        def landed(edit: KeyEdit) -> None:
            doc.select_keys(frames)
            self._report_regenerated(f"Pasted {len(frames)} keyframes at frames {at}–{last}",
                                     edit, "around them")

        text = f"Paste {len(frames)} keyframes at {at}–{last}"
        return self._edits.submit(text, text, paste_keys_edit, block, at, on_landed=landed)

    def mirror_selected_key(self) -> JobHandle | None:
        """The selected key's pose mirrored left <-> right (what the right hand did, the
        left hand does); the motion around it is regenerated (one undo step)."""
        from engine.body.mirror import mirror_keyframe

        doc = self._ctx.document
        key = (doc.committed_project.keyframe_at(doc.selected_key)
               if doc.selected_key is not None else None)
        if key is None:
            self._ctx.host.status_message("Select a keyframe to mirror first")
            return None

        def landed(edit: KeyEdit) -> None:
            doc.select_key(key.frame)
            self._report_regenerated(f"Mirrored the keyframe at frame {key.frame}", edit,
                                     "through it")

        return self._edits.submit(f"Mirror keyframe at {key.frame}",
                                  f"Mirror keyframe at {key.frame}", set_key_edit,
                                  replace(mirror_keyframe(key), generated=False),  # now the user's
                                  on_landed=landed)

    def mirror_project(self) -> None:
        """The whole project mirrored, for a left-handed signer (one undo step)."""
        from engine.body.mirror import mirror_project

        doc = self._ctx.document
        doc.apply_edit(ReplaceProject(mirror_project(doc.committed_project)),
                       "Mirror the project left ↔ right")
        self._ctx.host.status_message("Mirrored the whole project: the left hand now signs "
                                      "what the right hand did (Ctrl+Z undoes)")

    # ------------------------------------------------------------ contact locks
    def hold_contact(self) -> ContactDialog:
        """Ask which point of which hand to hold on which site, over the selected keys,
        the selected sign or the playhead's next half second (window-modal, not
        blocking); OK holds it (one undo step)."""
        doc = self._ctx.document
        project = doc.committed_project
        last = project.motion.num_frames - 1
        if len(doc.selected_keys) > 1:
            span = (min(doc.selected_keys), max(doc.selected_keys))
        elif doc.selected_segment is not None:
            segment = project.segments[doc.selected_segment]
            span = (segment.start, segment.end - 1)
        else:
            span = (doc.frame, min(doc.frame + round(project.motion.fps / 2), last))
        dialog = ContactDialog(project.motion.num_frames, span, self._ctx.host)
        dialog.accepted.connect(lambda: self.add_contact(dialog.lock()))
        self.contact_dialog = dialog
        dialog.open()
        return dialog

    def add_contact(self, lock: ContactLock) -> bool:
        """Hold ``lock`` from now on: the arm moves over its span (one undo step)."""
        from engine.notation.contact_hold import locked_project

        doc = self._ctx.document
        try:
            held = locked_project(doc.committed_project, lock, self._body)
        except MotionError as error:
            self._ctx.host.status_message(f"Could not hold the {lock.label}: {error}")
            return False
        frames = f"frames {lock.start}–{lock.end - 1}"
        doc.apply_edit(ReplaceProject(held), f"Hold the {lock.label}, {frames}")
        self._ctx.host.status_message(f"Holding the {lock.label} over {frames}; edits keep "
                                      "it there (Ctrl+Z undoes)")
        self._ctx.timeline.flash_range(lock.start, lock.end)
        return True

    def release_contacts(self) -> None:
        """Stop holding the contacts that cover the playhead; the motion stays as it is
        now (one undo step)."""
        doc = self._ctx.document
        project = doc.committed_project
        here = [c for c in project.contacts if c.start <= doc.frame < c.end]
        if not here:
            self._ctx.host.status_message(f"No hand is held on the body at frame {doc.frame}")
            return
        names = ", ".join(c.label for c in here)
        doc.apply_edit(ReplaceProject(project.replace(
            contacts=tuple(c for c in project.contacts if c not in here))), f"Release the {names}")
        self._ctx.host.status_message(f"Released the {names}: later edits no longer hold it")

    # ------------------------------------------------------------ notation
    def edit_notation(self, index: int, written: str) -> bool:
        """Make segment ``index`` again from ``written`` HamNoSys as one undo step; a
        string that cannot be made is underlined in the panel and changes nothing."""
        from engine.generate.from_notation import bad_name_span, error_span, resynthesised
        from engine.notation.hamnosys import NotationError
        from engine.notation.synthesis import UnsupportedNotation, timing_for

        panel = self._notation
        self._ctx.hold_still()
        project = self._ctx.document.committed_project
        try:
            timing = timing_for(self._settings(), project.motion.fps)
        except ValueError as error:  # a damaged setting: say so, change nothing
            panel.show_error(str(error), None)
            return False
        try:
            edited = resynthesised(project, index, written, body=self._body, timing=timing)
        except NotationError as error:
            panel.show_error(f"{error}", error_span(written, error.position))
            return False
        except UnsupportedNotation as error:
            panel.show_error(f"{error}; the sign is unchanged", None)
            return False
        except ValueError as error:  # a word that is not a HamNoSys name
            panel.show_error(f"{error}", bad_name_span(written))
            return False
        gloss = project.segments[index].gloss
        self._ctx.document.apply_edit(ReplaceProject(edited), f"Notation of '{gloss}'")
        self._ctx.document.select_segment(index)  # the same place in the order of signs
        self._ctx.host.status_message(f"Made '{gloss}' again from its notation")
        return True
