"""A contact sheet of signs made from notation: for each sign, its SignWriting (drawn by
the ``signwriting`` package, offline) beside three frames of the synthesised sign
(first posture, the middle posture, last posture) and its HamNoSys as names, so a
signer can check the avatar against the written form at a glance."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.body.base import BodyModel
from engine.export.render import OffscreenRenderer, write_image


@dataclass(frozen=True)
class SheetSign:
    gloss: str
    hamnosys: str
    signwriting: str = ""  # FSW; "" draws no SignWriting


def _wrapped(text: str, draw, font, width: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines


def notation_sheet(signs: list[SheetSign], path: str | Path, body: BodyModel,
                   tile: int = 220) -> Path:
    """Render the sheet of ``signs`` to ``path`` (PNG), one row per sign; returns it.
    Raises ``NotationError``/``UnsupportedNotation`` naming the first sign that cannot
    be made (the caller chooses the signs)."""
    from PIL import Image, ImageDraw

    from engine.export.video_overlays import caption_font
    from engine.notation.dsgs import signwriting_picture
    from engine.notation.symbols import to_names
    from engine.notation.synthesis import synthesise

    caption = 30
    sheet = Image.new("RGB", (tile * 4, (tile + caption) * len(signs)), "white")
    draw = ImageDraw.Draw(sheet)
    font = caption_font(13)
    with OffscreenRenderer(body, tile, tile) as renderer:
        for row, sign in enumerate(signs):
            made = synthesise(sign.hamnosys, body)
            postures = made.key_frames[1:-2]  # without the rest frames and the relax
            picks = [postures[0], postures[len(postures) // 2], postures[-1]]
            out = body.forward(made.motion, np.array(picks))
            top = row * (tile + caption)
            if sign.signwriting:
                drawn = signwriting_picture(sign.signwriting, tile)
                if drawn is not None:
                    sheet.paste(Image.fromarray(drawn), (0, top))
            chest = out.joints[0, 9]  # spine3: frame the upper body the same in every row
            for column in range(3):
                renderer.look_at(chest + np.array([0.0, 0.1, 0.0]), (0.0, 0.05, 1.0), 0.8)
                frame = renderer.render(np.ascontiguousarray(out.vertices[column]))
                sheet.paste(Image.fromarray(frame), (tile * (column + 1), top))
            lines = _wrapped(f"{sign.gloss}: {to_names(sign.hamnosys)}", draw, font,
                             sheet.width - 8)
            for number, line in enumerate(lines[:2]):
                if number == 1 and len(lines) > 2:
                    line = line.rstrip() + " …"
                draw.text((4, top + tile + 2 + 14 * number), line, fill=(0, 0, 0), font=font)
    return write_image(path, np.asarray(sheet))
