"""Building and adding to the lexicon: the package's fingerspelling clips, the DSGS
signs from notation, a user's recording or notation. The CLI's ``lexicon`` commands
and the studio's first launch and sign dialogs call these."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.data.languages import language_label
from engine.jobs import CancelToken, Progress, no_progress

#: The language whose signs ship as notation (Swiss German Sign Language).
NOTATION_LANGUAGE = "sgg"


def notation_timing(fps: float = 30.0):
    """The synthesiser's timing at the saved ``signing_speed`` setting; ValueError
    naming the setting when it is damaged (``config set`` or the settings dialog
    repairs it), rather than a tempo the user did not choose."""
    from engine.notation.synthesis import timing_for
    from engine.settings import load_settings

    return timing_for(load_settings(), fps)


def open_lexicon(path: str | Path | None = None, *, rebuilding: bool = False):
    """(store, note): the lexicon at ``path`` (None: the user's). When ``rebuilding``, a
    damaged database is set aside (kept, never deleted) and a new one started; the note
    says where the damaged one went."""
    from engine.data.lexicon import LexiconDamaged, LexiconStore, set_aside

    try:
        return LexiconStore(path), ""
    except LexiconDamaged as error:
        if not rebuilding:
            raise
        kept = set_aside(error.path)
        return LexiconStore(error.path), (f"{error.path}: damaged "
                                          f"({error.problem.split(';')[0]}); kept it as "
                                          f"{kept} and started a new lexicon")


def _writable(store, action: str) -> None:
    """Refuse a change to a lexicon opened read-only, saying why it is."""
    if store.read_only:
        raise ValueError(f"lexicon {action} refused: {store.read_only}; listing and "
                         "generating still work")


@dataclass(frozen=True)
class BuildOptions:
    """``languages``: codes to build (empty: all 19); ``gloss``: only this one;
    ``workers``: fitting processes."""

    languages: tuple[str, ...] = ()
    gloss: str | None = None
    workers: int = 1


@dataclass(frozen=True)
class BuildResult:
    letters: object          # engine.data.lexicon_build.BuildReport
    signs: object | None     # the DSGS notation report, when sgg was built

    @property
    def failed(self) -> bool:
        return bool(self.letters.failed)


def _share(progress: Progress, low: int, high: int, what: str) -> Progress:
    """A Progress mapping a step's own count onto [low, high] of 1000."""
    def report(done: int, total: int, message: str = "") -> None:
        progress(low + (high - low) * done // max(total, 1), 1000, f"{what}: {message}")
    return report


def build_lexicon(store, options: BuildOptions = BuildOptions(), *,
                  progress: Progress = no_progress,
                  cancel: CancelToken | None = None) -> BuildResult:
    """Fit the package's clips of ``options.languages`` into ``store`` and, when DSGS is
    among them (or all are built), synthesise its signs from notation. Entries already
    stored are skipped; every entry is its own transaction, so an interrupted build
    keeps what it finished."""
    from engine.data.lexicon_build import build_from_notation, build_from_package

    _writable(store, "build")
    languages = list(options.languages)
    glosses = [options.gloss] if options.gloss else None
    with_signs = not languages or NOTATION_LANGUAGE in languages
    # A damaged tempo setting fails here, before minutes of fitting, not after them.
    timing = notation_timing() if with_signs else None
    split = 700 if with_signs else 1000
    letters = build_from_package(store, languages or None, glosses=glosses,
                                 progress=_share(progress, 0, split, "fitting clips"),
                                 cancel=cancel, workers=options.workers)
    signs = None
    if with_signs:
        signs = build_from_notation(store, glosses=glosses, timing=timing,
                                    progress=_share(progress, split, 1000, "DSGS signs"),
                                    cancel=cancel)
    return BuildResult(letters, signs)


def first_lexicon(store, language: str, *, progress: Progress = no_progress,
                  cancel: CancelToken | None = None) -> str:
    """A lexicon to sign with when it has no alphabet at all (the first launch):
    ``language``'s letters and, for DSGS, its signs. Returns what was added ("" when
    the lexicon already had an alphabet)."""
    from engine.generate.text import supported_languages

    if supported_languages(store):
        return ""
    result = build_lexicon(store, BuildOptions(languages=(language,)), progress=progress,
                           cancel=cancel)
    summary = f"{language_label(language)} alphabet: {result.letters.summary()}"
    if result.signs is not None:
        summary += f"; DSGS signs: {result.signs.added} made from notation"
    return summary


def add_recorded_sign(store, video: str | Path, gloss: str, language: str, *,
                      words: tuple[str, ...] = (), progress: Progress = no_progress,
                      cancel: CancelToken | None = None) -> int:
    """A user's recording of one sign, reconstructed (keypoints, then fitting) and
    stored; returns the entry id."""
    from engine.data.lexicon_build import add_video

    _writable(store, "add")
    return add_video(store, video, gloss, language, words=words, progress=progress,
                     cancel=cancel)


def add_notated_sign(store, notation: str, gloss: str, language: str, *,
                     words: tuple[str, ...] = ()) -> int:
    """A sign from HamNoSys (symbols or names), synthesised and stored; returns the id."""
    from engine.data.lexicon_build import add_notation
    from engine.generate.from_notation import hamnosys_text

    _writable(store, "add-notation")
    return add_notation(store, hamnosys_text(notation), gloss, language, words=words,
                        timing=notation_timing())


def add_sigml_signs(store, path: str | Path, language: str) -> list[int]:
    """Every sign of a SiGML file, all or nothing; returns the entry ids."""
    from engine.data.lexicon_build import add_sigml

    _writable(store, "add-sigml")
    return add_sigml(store, path, language, timing=notation_timing())


def signable_languages(store) -> list[str]:
    """Every sign language Sign Studio can sign: those with an alphabet in the lexicon,
    and those whose letters the package's recordings offer (fitted when first needed,
    ``fit_letters_for``)."""
    from engine.data.fingerspelling import load_index
    from engine.generate.text import supported_languages

    return sorted(set(supported_languages(store)) | set(load_index().languages()))


def letters_in_text(text: str, language: str) -> list[str]:
    """The glosses of the package's letter clips of ``language`` that ``text`` shows
    (as the speller reads it: case and accents folded), sorted."""
    from engine.data.fingerspelling import load_index
    from engine.data.lexicon import word_key

    written = word_key(text).replace("\u0640", "")  # the Arabic tatweel is no letter
    letters = {clip.glosses: word_key(clip.words) for clip in load_index().for_language(language)}
    return sorted(gloss for gloss, key in letters.items() if key and key in written)


def fit_letters_for(store, text: str, language: str, *, tokens: list | None = None,
                    workers: int = 1, progress: Progress = no_progress,
                    cancel: CancelToken | None = None,
                    say: Callable[[str], None] = lambda line: None) -> int:
    """Fit into ``store`` the package's letter clips that signing ``text`` needs and the
    lexicon lacks; returns how many were added (0 when every word is already signed or
    spelled, the package has none of the missing letters, or the lexicon is read-only).

    The letters the text shows are fitted first (one clip takes ~1.5 s); a language
    with no letter in the lexicon gets its whole alphabet (~25 clips), since spelling
    may need letters the text does not show (an accented letter, a number in words).
    ``tokens``: ``text``'s tokens when the caller has them already (not read again).
    """
    from engine.data.lexicon_build import build_from_package
    from engine.generate.text import text_to_tokens

    if store.read_only:
        return 0  # a read-only lexicon still signs what it holds
    known = {s.gloss for s in store.list(language) if s.kind == "letter"}
    if known:
        if tokens is None:
            tokens = list(text_to_tokens(text, language, store))
        if all(token.glosses and not token.note for token in tokens):
            return 0
    shown = [gloss for gloss in letters_in_text(text, language) if gloss not in known]
    if known and not shown:
        return 0  # the package has none of what is missing
    report = build_from_package(store, [language], glosses=shown if known else None,
                                progress=progress, cancel=cancel, workers=workers)
    say(f"lexicon {store.path}: {report.summary()}")
    return report.added

