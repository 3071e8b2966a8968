"""Signs from notation: one HamNoSys sign as a project, and a contact sheet of lexicon
signs beside their SignWriting. The CLI's ``sign`` and ``sheet`` call these; the studio's
notation panel edits through ``engine.generate.from_notation``."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from engine.motion.errors import UsageError
from engine.motion.project import AvatarChoice, Project
from engine.workflows.export import check_avatar
from engine.workflows.lexicon import notation_timing


@dataclass(frozen=True)
class NotationOptions:
    """``avatar``: the body the sign is placed on (its anchors are measured on it) and
    that the project then shows; ``smplx_dir``: the SMPL-X folder for that avatar.
    ``mouthing``: the word the sign is mouthed with; None: the gloss's word (not
    mouthed when there is no gloss or its language has no phonemizer voice); "": none."""

    gloss: str = ""
    language: str = "sgg"
    fps: float = 30.0
    avatar: str = "default"
    smplx_dir: str | None = None
    mouthing: str | None = None

    def __post_init__(self):
        check_avatar(self.avatar)


def sign_from_notation(notation: str, options: NotationOptions = NotationOptions()) -> Project:
    """HamNoSys (symbols or names) -> a one-sign project with a keyframe at each
    posture. Raises ``NotationError`` (position, symbol, expected) or
    ``UnsupportedNotation`` (the feature)."""
    from engine.body import load_body_model
    from engine.generate.from_notation import project_from_notation

    body = load_body_model(options.avatar, smplx_dir=options.smplx_dir)
    from engine.workflows.face import gloss_word, mouthing_or_note, set_mouthing

    project = project_from_notation(notation, gloss=options.gloss, language=options.language,
                                    body=body, timing=notation_timing(options.fps))
    project = project.replace(avatar=AvatarChoice(options.avatar))
    if options.mouthing:  # asked for: a word that cannot be mouthed is an error
        project, _ = set_mouthing(project, 0, options.mouthing)
    elif options.mouthing is None and gloss_word(options.gloss):
        mouthing = mouthing_or_note(gloss_word(options.gloss), options.language, [])
        if mouthing is not None:
            project = project.replace(segments=(
                replace(project.segments[0], mouthing=mouthing),) + project.segments[1:])
    return project


def notation_sheet_of(store, glosses: list[str], language: str, path: str | Path, body,
                      tile: int = 220) -> tuple[Path, int]:
    """A contact sheet PNG of the lexicon signs ``glosses`` made from notation (the
    newest entry of each): SignWriting beside the first, middle and last posture.
    Returns (path, number of signs). Raises ``UsageError`` naming glosses without one."""
    from engine.export.notation_sheet import SheetSign, notation_sheet

    signs, missing = [], []
    for gloss in glosses:
        found = [s for s in store.find_gloss(language, gloss) if s.notation]
        if found:
            signs.append(SheetSign(gloss, found[-1].notation, found[-1].signwriting))
        else:
            missing.append(gloss)
    if missing:
        raise UsageError(f"no {language} sign made from notation for: {', '.join(missing)} "
                         f"(`signstudio-cli lexicon list --lang {language}` lists them)")
    return notation_sheet(signs, path, body, tile=tile), len(signs)
