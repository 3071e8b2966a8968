"""Train the fitter's hand reader: render the lexicon's letters, read them with
MediaPipe (``engine.export.hand_readings``), learn the reading
(``engine.learn.train_hand_reader``). ``signstudio-cli train hand_reader`` runs it.

Rendering needs ``engine.export`` and training ``engine.learn``; this use case joins the
two, which neither layer may do for the other.
"""
from __future__ import annotations

from pathlib import Path

from engine.jobs import CancelToken, Progress, no_progress
from engine.learn.train_hand_reader import HandReaderTrainConfig, fit_hand_reader

__all__ = ["HandReaderTrainConfig", "train_hand_reader"]

#: Share of the progress bar the rendering takes (it takes most of the time).
RENDER_SHARE = 0.9


def readings_path(out: str | Path) -> Path:
    """Where the renders' readings are kept until the reader is written, so that
    ``resume`` does not render them again: ``<out>.readings.npz``."""
    out = Path(out)
    return out.with_name(out.stem + ".readings.npz")


def train_hand_reader(lexicon: str | Path, out: str | Path, config: HandReaderTrainConfig, *,
                      resume: bool = False, progress: Progress = no_progress,
                      cancel: CancelToken | None = None):
    """Render and read ``config.renders`` hands posed in the letters of every lexicon
    language but ``config.held_out_languages``, then train a reader on them and write
    ``out``. Returns the ``TrainResult``. The readings are kept in ``readings_path(out)``
    (saved every few hundred renders and when cancelled) until ``out`` is written;
    ``resume`` continues from them and from the training's resume file. ValueError when
    the lexicon has no such letters or the saved readings are damaged; ``Cancelled``
    when cancelled."""
    from engine.data.lexicon import LexiconStore
    from engine.export.hand_readings import load_readings, render_hand_readings, save_readings

    lexicon = Path(lexicon)
    if not lexicon.is_file():
        raise FileNotFoundError(f"{lexicon}: no such lexicon file")
    total = 1000

    def rendering(done: int, renders: int, message: str = "") -> None:
        progress(int(RENDER_SHARE * total * done / renders), total, message)

    def training(done: int, steps: int, message: str = "") -> None:
        progress(int(total * (RENDER_SHARE + (1 - RENDER_SHARE) * done / steps)), total,
                 f"training the hand reader: {message}")

    saved = readings_path(out)
    start = load_readings(saved) if resume and saved.exists() else None

    with LexiconStore(lexicon, read_only=True) as store:
        languages = sorted({entry.language for entry in store.list() if entry.kind == "letter"}
                           - set(config.held_out_languages))
        if not languages:
            raise ValueError(f"{lexicon}: no letters outside the held-out languages "
                             f"({', '.join(config.held_out_languages)}) to render")
        readings = render_hand_readings(
            store, languages, config.renders, seed=config.render_seed,
            finger_jitter=config.finger_jitter, wrist_jitter=config.wrist_jitter,
            blend_share=config.blend_share, inventory_share=config.inventory_share,
            start=start, save=lambda so_far: save_readings(saved, so_far),
            progress=rendering, cancel=cancel)
        drawn_from = set(readings.entries)
        letters = [entry for entry in store.list() if entry.id in drawn_from]
        licence = "; ".join(sorted({entry.licence for entry in letters}))
        guided = sum("hand_reader_frames" in entry.quality for entry in letters)
    # A training resumed on other readings than it began with would mix the two.
    same_readings = start is None or start.key == readings.key
    result = fit_hand_reader(readings.keypoint_frame(), readings.poses, out, config,
                             data_licence=f"renders of the default avatar posed in lexicon "
                                          f"letters ({licence})", resume=resume and same_readings,
                             progress=training, cancel=cancel)
    saved.unlink(missing_ok=True)
    if not same_readings:
        result.notes += (f"{saved} was saved by a run with other letters or settings: the "
                         "hands were rendered again and the training started over",)
    elif start is not None:
        result.notes += (f"continued from {start.rendered} renders saved in {saved}",)
    if guided:
        # The shipped reader learned from letters fitted without one (docs/learned-models.md).
        result.notes += (f"{guided} of the {len(letters)} letters rendered were fitted with a "
                         "hand reader's help: this reader learned from a reader-guided fit",)
    return result
