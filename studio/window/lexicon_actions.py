"""Signing from the lexicon, as jobs on the lexicon's lane: generating from text, the
sign language list and handshape presets, the lexicon browser and inserting one of its
signs, the first launch's lexicon set-up, adding a dropped video as a sign and finding
the sign for a dropped photo.

The lexicon service lives on the job lane (its SQLite connection belongs to that
thread), so every call here is a ``runner.submit`` whose result lands on the GUI
thread; a result that replaces the project lands as one undo step.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from engine.motion.edits import ReplaceProject
from engine.motion.project import Project
from engine.settings import Settings
from studio.jobs import JobHandle
from studio.lexicon_service import Generation, LexiconService, language_label
from studio.panels.lexicon_browser import LexiconBrowser
from studio.panels.prompt_panel import PromptPanel
from studio.panels.properties_panel import PropertiesPanel
from studio.window.context import WindowContext, confirm


class LexiconActions(QObject):
    """Runs the lexicon's jobs for the prompt panel, the lexicon browser and drops.

    ``settings()``: the settings now (their default sign language).
    """

    def __init__(self, ctx: WindowContext, lexicon: LexiconService,
                 settings: Callable[[], Settings], *, prompt: PromptPanel,
                 browser: LexiconBrowser, properties: PropertiesPanel):
        super().__init__(ctx.host)
        self._ctx = ctx
        self.lexicon = lexicon
        self._settings = settings
        self._prompt, self._browser, self._properties = prompt, browser, properties
        self.languages: list[str] = []
        self.last_generation: Generation | None = None
        self._first_setup: JobHandle | None = None  # the first launch's lexicon setup
        self.thumbnails: JobHandle | None = None    # pictures of find-sign's candidates
        # What the last Generate made: a project that differs from it (and is not saved)
        # holds the user's edits, and a new Generate asks before replacing them.
        self._generated: Project | None = None
        self._request_shown_for: object = None
        ctx.document.file_changed.connect(self._show_project_request)
        for signal, slot in ((prompt.generate_requested, self.generate),
                             (prompt.language_changed, self.load_handshape_presets),
                             (prompt.language_changed, self.load_lexicon_signs),
                             (prompt.video_dropped, self.import_video),
                             (prompt.image_dropped, self.image_dropped),
                             (browser.insert_requested, self.insert_sign_at_playhead)):
            signal.connect(slot)

    def language_labels(self) -> dict[str, str]:
        return {code: language_label(code) for code in self.languages}

    def _dropped_file_language(self) -> str:
        return self._prompt.language_code() or self._settings().default_language

    def _language_job(self, what: str, job, language: str) -> JobHandle | None:
        """``job(language)`` on the lane, titled "``what`` of <language>"; None for no
        language (the list is still loading)."""
        if not language:
            return None
        return self._ctx.runner.submit(f"{what} of {language_label(language)}", job, language)

    # ------------------------------------------------------------ the lexicon
    def load_lexicon(self) -> JobHandle:
        handle = self._ctx.runner.submit("Open lexicon", self.lexicon.languages)

        def loaded(lists: tuple[list[str], bool]) -> None:
            languages, has_alphabet = lists
            self.languages = languages
            self._prompt.set_languages(languages, self.language_labels(),
                                       self._settings().default_language)
            if not has_alphabet:
                self.set_up_first_lexicon()

        handle.finished.connect(loaded)
        handle.failed.connect(lambda message: self._prompt.show_message(message))
        return handle

    def load_handshape_presets(self, language: str) -> JobHandle | None:
        handle = self._language_job("Handshapes", self.lexicon.handshape_presets, language)
        if handle is not None:
            handle.finished.connect(self._properties.set_handshape_presets)
        return handle

    def load_lexicon_signs(self, language: str) -> JobHandle | None:
        """Fill the lexicon browser with ``language``'s signs."""
        handle = self._language_job("Signs", self.lexicon.list_signs, language)
        if handle is not None:
            handle.finished.connect(lambda signs: self._browser.set_entries(
                language_label(language), signs))
            handle.failed.connect(self._browser.show_message)
        return handle

    def set_up_first_lexicon(self) -> JobHandle | None:
        """First launch (a lexicon without any alphabet): fit the default language's
        letters from the package's real recordings (and make the DSGS signs for
        ``sgg``) as a job with progress and cancel, then open the lexicon again."""
        if self._first_setup is not None:
            return None  # once per window: a failure is reported, not retried in a loop
        language = self._settings().default_language or "ase"
        self._prompt.show_message(
            f"Setting up the lexicon for the first time ({self.lexicon.path}): fitting the "
            f"{language_label(language)} alphabet from real recordings"
            + (" and making the DSGS signs from their notation" if language == "sgg" else "")
            + ". This takes a minute or two, once; the progress is in the status bar.")
        handle = self._ctx.runner.submit(f"Set up the {language_label(language)} lexicon",
                                         self.lexicon.first_lexicon, language)
        self._first_setup = handle

        def done(summary: str) -> None:
            self._prompt.show_message(f"Lexicon ready: {summary}. Type text to sign it."
                                      if summary else "Lexicon ready.")
            self.load_lexicon()

        handle.finished.connect(done)
        handle.failed.connect(lambda message: self._prompt.show_message(
            f"The lexicon could not be set up: {message}. `signstudio-cli lexicon build` "
            "builds it from the command line; a video of a sign dropped here adds one."))
        handle.cancelled.connect(lambda: self._prompt.show_message(
            "Lexicon setup cancelled; what was fitted is kept. Restart Sign Studio or run "
            "`signstudio-cli lexicon build` to finish it."))
        return handle

    # ------------------------------------------------------------ signing
    def _show_project_request(self) -> None:
        """When another project file is opened, show the text and language it was
        generated from (nothing for a project that was not generated)."""
        doc = self._ctx.document
        if doc.path == self._request_shown_for:
            return
        self._request_shown_for = doc.path
        origin = doc.committed_project.origin
        if doc.path is not None and origin is not None:
            self._prompt.show_request(origin.text, origin.language)

    def has_unsaved_edits(self) -> bool:
        """Whether the project holds changes the user made that no file keeps (a fresh
        generation, or a saved project, has none)."""
        doc = self._ctx.document
        if not doc.dirty:
            return False
        project, generated = doc.committed_project, self._generated
        return generated is None or not (project is generated or project.equals(generated))

    def generate(self, text: str, language: str) -> JobHandle | None:
        """Generate ``text``; asks first when that would replace unsaved edits (None
        when the user keeps them)."""
        buttons = QMessageBox.StandardButton
        if self.has_unsaved_edits() and not confirm(
                self._ctx.host, "Replace the project?",
                f"Generating “{text}” replaces the current project, including edits that are "
                "not saved. (Edit > Undo brings them back.) Generate anyway?",
                buttons.Yes, buttons.No):
            return None
        self._prompt.set_busy(True)
        handle = self._ctx.runner.submit(f"Generate “{text}”", self.lexicon.generate, text,
                                         language)

        def done(generation: Generation) -> None:
            self._prompt.set_busy(False)
            self._ctx.hold_still()
            self.last_generation = generation
            self._ctx.document.apply_edit(ReplaceProject(generation.project),
                                          f"Generate “{text}”")
            self._generated = self._ctx.document.committed_project
            self._ctx.document.set_frame(0)
            self._prompt.show_report(generation.report)
            self._ctx.timeline.fit_to_width()
            project = generation.project
            self._ctx.host.status_message(f"Generated {len(project.segments)} signs, "
                                          f"{project.motion.num_frames} frames "
                                          f"({project.motion.duration:.1f} s)")

        def failed(message: str) -> None:
            self._prompt.set_busy(False)
            self._prompt.show_message(message)

        handle.finished.connect(done)
        handle.failed.connect(failed)
        handle.cancelled.connect(lambda: self._prompt.set_busy(False))
        return handle

    def insert_sign_at_playhead(self, entry_id: int, gloss: str) -> JobHandle:
        """Read the sign on the job lane, then splice it in at the playhead as one undo
        step (``engine.generate.splice.insert_sign``)."""
        handle = self._ctx.runner.submit(f"Insert '{gloss}'", self.lexicon.sign_entry, entry_id)

        def landed(entry) -> None:
            from engine.generate.splice import insert_sign, inserted_index
            from engine.motion.project import SegmentKind

            self._ctx.hold_still()
            frame = self._ctx.document.frame
            before = self._ctx.document.committed_project
            project = insert_sign(
                before, frame, entry.motion, gloss=entry.gloss, language=entry.language,
                kind=SegmentKind.NOTATION if entry.notation else SegmentKind.LEXICON,
                notation=entry.notation)
            self._ctx.document.apply_edit(ReplaceProject(project), f"Insert '{entry.gloss}'")
            self._ctx.document.select_segment(inserted_index(before, frame))
            self._ctx.timeline.fit_to_width()
            self._ctx.host.status_message(f"Inserted '{entry.gloss}' at frame {frame}")

        handle.finished.connect(landed)
        handle.failed.connect(self._ctx.host.status_message)
        return handle

    # ------------------------------------------------------------ dropped media
    def import_video(self, path: str) -> JobHandle | None:
        """Add a dropped video to the lexicon as a sign, under a gloss the user types."""
        language = self._dropped_file_language()
        name = Path(path).name
        gloss = self._ctx.host.ask_text(
            "Add a sign to the lexicon",
            f"Gloss for {name} in {language_label(language)} (e.g. HELLO):",
            Path(path).stem.upper())
        if gloss is None:
            return None
        handle = self._ctx.runner.submit(f"Reconstruct {name}", self.lexicon.add_video, path,
                                         gloss, language)
        handle.finished.connect(lambda entry: self._prompt.show_message(
            f"Added '{gloss}' to the lexicon (entry {entry}). Type the word "
            f"'{gloss.lower()}' to use it."))
        handle.failed.connect(self._prompt.show_message)
        handle.finished.connect(lambda *_: self.load_lexicon())
        return handle

    def image_dropped(self, path: str) -> JobHandle:
        """Find the lexicon signs whose handshape matches a dropped photo."""
        language = self._dropped_file_language()
        name = Path(path).name
        handle = self._ctx.runner.submit(f"Find a sign for {name}",
                                         self.lexicon.match_image, path, language)

        def found(matches) -> None:
            self._prompt.show_message(image_match_text(name, language_label(language), matches))
            if not matches:
                return
            # Then the candidates' hands, as pictures beside their glosses.
            self.thumbnails = self._ctx.runner.submit(
                "Pictures of the candidates", self.lexicon.candidate_thumbnails,
                [match.entry.id for match in matches])
            self.thumbnails.finished.connect(lambda pictures: self._prompt.show_html(
                image_match_html(name, language_label(language), matches, pictures)))

        handle.finished.connect(found)
        handle.failed.connect(self._prompt.show_message)
        return handle


def image_match_html(name: str, language: str, matches, pictures: dict[int, bytes]) -> str:
    """``image_match_text`` with each candidate's hand pictured before its gloss."""
    import base64
    import html

    routes: dict[str, list[str]] = {}
    for match in matches:
        picture = pictures.get(match.entry.id)
        image = (f'<img src="data:image/png;base64,{base64.b64encode(picture).decode()}" '
                 f'width="56" height="56"> ' if picture else "")
        routes.setdefault(getattr(match, "route", "mediapipe"), []).append(
            f"{image}<b>{html.escape(match.entry.gloss)}</b> ({match.score:.2f})")
    return "".join(f"<p>{html.escape(name)}, {_ROUTE_TITLES.get(route, route)} in "
                   f"{html.escape(language)}:<br>{' &nbsp; '.join(found)}</p>"
                   for route, found in routes.items())


_ROUTE_TITLES = {"mediapipe": "closest handshapes", "clip": "closest by CLIP image similarity"}


def image_match_text(name: str, language: str, matches) -> str:
    """One line per route (handshape landmarks, then CLIP when configured), best first,
    so the same gloss found by both routes reads as agreement, not as a duplicate."""
    routes: dict[str, list[str]] = {}
    for match in matches:
        routes.setdefault(getattr(match, "route", "mediapipe"), []).append(
            f"{match.entry.gloss} ({match.score:.2f})")
    lines = [f"{name}, {_ROUTE_TITLES.get(route, route)} in {language}: " + ", ".join(found)
             for route, found in routes.items()]
    return "\n".join(lines) if lines else f"{name}: no matching sign found in {language}"
