"""Text to signing: tokens from the lexicon (signs, phrases, fingerspelling), assembled
into a project with holds and learned transitions. The CLI's ``generate`` and the
studio's prompt both call ``generate_signing``."""
from __future__ import annotations

from dataclasses import dataclass

from engine.data.languages import language_label
from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.errors import UsageError
from engine.motion.project import Origin, Project
from engine.workflows.export import OUTPUT_FPS


@dataclass(frozen=True)
class GenerateOptions:
    """``language``: ISO 639-3 sign language code; ``fps``: frames per second;
    ``fit_letters``: first fit the package letters the text needs and the lexicon lacks
    (``engine.workflows.lexicon.fit_letters_for``: seconds a letter, kept for next time);
    ``tempo``: the pace (``engine.generate.timing.Timing.tempo``: 2 twice as fast),
    None for the ``signing_speed`` setting; ``mouthing``: the project plays its signs'
    mouthing (each sign still carries its word, so it can be switched on later)."""

    language: str
    fps: float = 30.0
    fit_letters: bool = True
    tempo: float | None = None
    mouthing: bool = True

    def __post_init__(self):
        if not self.language:
            raise UsageError("language: expected a sign language code such as ase")
        low, high = OUTPUT_FPS
        if not low <= self.fps <= high:
            raise UsageError(f"fps: expected {low:g} to {high:g} frames per second, "
                             f"got {self.fps!r}")
        if self.tempo is not None:
            from engine.settings import SIGNING_SPEED_RANGE

            low, high = SIGNING_SPEED_RANGE
            if not low <= self.tempo <= high:
                raise UsageError(f"tempo: expected {low:g} to {high:g} (1 is the default "
                                 f"pace), got {self.tempo!r}")


@dataclass(frozen=True, eq=False)
class Generation:
    """A generation's result: the project and the coverage report
    (``engine.generate.text.coverage_report``: per-token kind, glosses and notes)."""

    project: Project
    report: dict
    text: str
    language: str
    notes: tuple[str, ...] = ()  # what could not be done as asked (e.g. mouthing)


def generate_signing(store, text: str, options: GenerateOptions, *,
                     progress: Progress = no_progress,
                     cancel: CancelToken | None = None) -> Generation:
    """``text`` signed from ``store`` (an open ``LexiconStore``).

    Raises ValueError when nothing in ``text`` can be signed (naming what is missing),
    and ``UnsupportedLanguage`` when the lexicon has no alphabet for the language.
    """
    from engine.data.fingerspelling import load_index
    from engine.generate.assemble import assemble
    from engine.generate.timing import Timing
    from engine.generate.text import UnsupportedLanguage, coverage_report, text_to_tokens
    from engine.workflows.face import mouthing_or_note
    from engine.workflows.lexicon import fit_letters_for

    tokens = None
    if options.fit_letters and options.language in load_index().languages():
        def fitting(done: int, total: int, message: str = "") -> None:
            progress(done, total, f"fitting the {language_label(options.language)} letters "
                                  f"the text needs from real recordings: {message}")

        try:  # read once: fitting looks at them, and they stand unless letters are added
            tokens = list(text_to_tokens(text, options.language, store))
        except UnsupportedLanguage:
            pass  # no letter of the language yet: its alphabet is fitted first
        if fit_letters_for(store, text, options.language, tokens=tokens, progress=fitting,
                           cancel=cancel):
            tokens = None
    if tokens is None:
        tokens = list(text_to_tokens(text, options.language, store))
    report = coverage_report(tokens)
    if not any(token.glosses for token in tokens):
        missing = ", ".join(token.text for token in tokens) or "(no words)"
        raise ValueError(f"nothing to sign in '{text}' for {language_label(options.language)}: "
                         f"not in the lexicon: {missing}")
    tempo = _signing_speed() if options.tempo is None else options.tempo
    notes: list[str] = []
    project = assemble(tokens, store, options.language, Timing(fps=options.fps, tempo=tempo),
                       progress=progress, cancel=cancel, title=text,
                       mouth=lambda word: mouthing_or_note(word, options.language, notes))
    origin = Origin(text, options.language, options.fps, tempo)
    project = project.replace(origin=origin, mouthing=options.mouthing)
    return Generation(project, report, text, options.language, tuple(notes))


def _signing_speed() -> float:
    """The tempo setting the lexicon's notation signs are made at (1 when damaged: the
    settings dialog and ``config show`` report that)."""
    from engine.settings import load_settings, signing_speed

    try:
        return signing_speed(load_settings())
    except ValueError:
        return 1.0
