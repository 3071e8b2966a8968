"""Grammatical presets: the non-manual markers a construction carries, applied to a span.

The built-in presets follow the descriptions of ASL and DGS/DSGS non-manual grammar
(Baker-Shenk 1983; Pfau & Quer 2010, "Nonmanuals: their grammatical and prosodic
roles"): a yes/no question raises the brows and leans the head forward with the eyes
wide; a wh-question furrows the brows and squints; negation shakes the head with the
mouth corners down; a topic raises the brows with the head back; a conditional clause
raises the brows with a tilt. Each part's ramps are in seconds, so a preset fits any
frame rate and span. A linguist saves their own from the markers over a span.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.atomic import atomic_output
from engine.motion.errors import UsageError
from engine.motion.markers import FaceMarker, MarkerKind

USER_PRESETS_FILE = "face_presets.json"
MAX_RAMP_S = 10.0
MAX_PRESETS_BYTES = 1 << 20


@dataclass(frozen=True)
class PresetPart:
    kind: MarkerKind
    intensity: float = 1.0
    onset_s: float = 0.2
    offset_s: float = 0.2


@dataclass(frozen=True)
class GrammarPreset:
    name: str          # "yes_no_question": what the CLI takes
    label: str         # "Yes/no question": what menus show
    parts: tuple[PresetPart, ...]

    def markers(self, start: int, end: int, fps: float) -> tuple[FaceMarker, ...]:
        """The preset's markers over frames ``[start, end)``; ramps shrink to fit."""
        if not 0 <= start < end:
            raise UsageError(f"preset span: expected 0 <= start < end, got {start}, {end}")
        out = []
        for part in self.parts:
            onset, offset = round(part.onset_s * fps), round(part.offset_s * fps)
            full = FaceMarker(part.kind, start, max(end, start + onset + offset),
                              part.intensity, onset, offset)
            out.append(full.spanning(start, end))
        return tuple(out)


BUILT_IN: tuple[GrammarPreset, ...] = (
    GrammarPreset("yes_no_question", "Yes/no question", (
        PresetPart(MarkerKind.BROWS_RAISE), PresetPart(MarkerKind.EYES_WIDE, 0.6),
        PresetPart(MarkerKind.HEAD_FORWARD, 0.8))),
    GrammarPreset("wh_question", "Wh-question", (
        PresetPart(MarkerKind.BROWS_FURROW), PresetPart(MarkerKind.EYES_SQUINT, 0.7),
        PresetPart(MarkerKind.HEAD_FORWARD, 0.5))),
    GrammarPreset("negation", "Negation", (
        PresetPart(MarkerKind.HEAD_SHAKE, 0.8, 0.1, 0.15),
        PresetPart(MarkerKind.BROWS_FURROW, 0.5),
        PresetPart(MarkerKind.MOUTH_CORNERS_DOWN, 0.8))),
    GrammarPreset("topic", "Topic", (
        PresetPart(MarkerKind.BROWS_RAISE), PresetPart(MarkerKind.HEAD_BACK, 0.6),
        PresetPart(MarkerKind.EYES_WIDE, 0.4))),
    GrammarPreset("conditional", "Conditional", (
        PresetPart(MarkerKind.BROWS_RAISE), PresetPart(MarkerKind.HEAD_TILT_LEFT, 0.6),
        PresetPart(MarkerKind.EYES_WIDE, 0.4))),
)


def user_presets_path() -> Path:
    from engine.settings import settings_path

    return settings_path().with_name(USER_PRESETS_FILE)


def load_user_presets(path: Path | None = None) -> tuple[GrammarPreset, ...]:
    """The presets the user saved (none when there is no file). A damaged file raises
    ``UsageError`` naming it and the problem; it is left as it is."""
    path = path or user_presets_path()
    try:
        if os.path.getsize(path) > MAX_PRESETS_BYTES:
            raise UsageError(f"{path}: over {MAX_PRESETS_BYTES:,} bytes; not a presets file")
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise UsageError(f"{path}: not a presets file ({error})") from None
    try:
        presets = tuple(
            GrammarPreset(str(e["name"]), str(e["label"]),
                          tuple(PresetPart(MarkerKind(p["kind"]), float(p["intensity"]),
                                           float(p["onset_s"]), float(p["offset_s"]))
                                for p in e["parts"]))
            for e in entries)
        for preset in presets:
            for part in preset.parts:
                if not (0.0 <= part.intensity <= 1.0 and 0.0 <= part.onset_s <= MAX_RAMP_S
                        and 0.0 <= part.offset_s <= MAX_RAMP_S):
                    raise ValueError(f"preset '{preset.name}': intensity 0..1 and ramps of "
                                     f"0..{MAX_RAMP_S:g} s expected, got {part}")
        return presets
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"{path}: a preset is damaged ({error!r}); expected a list of "
                         "{name, label, parts: [{kind, intensity, onset_s, offset_s}]}") from None


def all_presets(path: Path | None = None) -> tuple[GrammarPreset, ...]:
    """The built-in presets, then the user's (a user preset of a built-in's name wins)."""
    user = load_user_presets(path)
    names = {p.name for p in user}
    return tuple(p for p in BUILT_IN if p.name not in names) + user


def find_preset(name: str, path: Path | None = None) -> GrammarPreset:
    """The preset called ``name``; a built-in one is found even when the user's presets
    file is damaged (that error is raised only for a name it would have held)."""
    try:
        presets = all_presets(path)
    except UsageError:
        presets = BUILT_IN
        if name not in {p.name for p in BUILT_IN}:
            raise
    for preset in presets:
        if preset.name == name:
            return preset
    raise UsageError(f"face preset: expected one of {', '.join(p.name for p in presets)}, "
                     f"got {name!r}")


def preset_from_markers(label: str, markers: tuple[FaceMarker, ...], fps: float) -> GrammarPreset:
    """A preset that makes ``markers`` again (their kinds, intensities and ramps)."""
    if not markers:
        raise UsageError("a preset needs at least one marker over the span")
    name = "_".join("".join(c if c.isalnum() else " " for c in label.lower()).split())
    if not name:
        raise UsageError(f"preset name: expected letters or digits, got {label!r}")
    return GrammarPreset(name, label.strip(), tuple(
        PresetPart(m.kind, m.intensity, m.onset / fps, m.offset / fps) for m in markers))


def save_user_preset(preset: GrammarPreset, path: Path | None = None) -> Path:
    """Add (or replace, by name) a user preset; the file is written atomically."""
    path = path or user_presets_path()
    kept = [p for p in load_user_presets(path) if p.name != preset.name] + [preset]
    entries = [{"name": p.name, "label": p.label,
                "parts": [{**asdict(part), "kind": part.kind.value} for part in p.parts]}
               for p in kept]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as temp:
        Path(temp).write_text(json.dumps(entries, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
