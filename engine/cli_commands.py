"""The commands of ``signstudio-cli`` (``engine.cli`` parses their arguments): each turns
its arguments into a workflow's options (``engine.workflows``), runs it with a text
progress bar and prints what it did. Bad use raises ``UsageError`` (exit 2)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import engine
from engine.motion.errors import UsageError


class _Bar:
    """A tqdm bar as a Progress callback (to stderr, so --json output stays clean). It
    appears with the first report after half a second, so quick work shows no bar."""

    SHOW_AFTER_S = 0.5

    def __init__(self, description: str):
        self._description = description
        self._started = time.monotonic()
        self._bar = None

    def __call__(self, done: int, total: int, message: str = "") -> None:
        if self._bar is None:
            if time.monotonic() - self._started < self.SHOW_AFTER_S:
                return
            from tqdm import tqdm

            self._bar = tqdm(desc=self._description, unit="step", file=sys.stderr, leave=True)
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _body(args: argparse.Namespace):
    from engine.body import load_body_model

    return load_body_model(getattr(args, "avatar", "default"),
                           smplx_dir=getattr(args, "smplx_dir", None))


def _store(args: argparse.Namespace):
    from engine.data.lexicon import LexiconStore

    return LexiconStore(args.db)


def _export_options(args: argparse.Namespace, *, frame_rate: bool = True):
    """The export options the command line gave; ``frame_rate``: whether ``--fps`` is
    the export's (``generate`` and ``sign`` make the motion at that rate already)."""
    from engine.workflows.export import ExportOptions

    given = {name: getattr(args, name) for name in ExportOptions.__dataclass_fields__
             if getattr(args, name, None) is not None}
    if not frame_rate:
        given.pop("fps", None)
    return ExportOptions(**given)


def _export(project, output: str | Path, options) -> None:
    """``project`` written as ``output``'s extension says (``engine.workflows.export``)."""
    from engine.workflows.export import export_project

    with _Bar(f"writing {Path(output).name}") as bar:
        result = export_project(project, output, options, progress=bar)
    for note in result.notes:
        print(note, file=sys.stderr)


def cmd_info(args: argparse.Namespace) -> int:
    from engine.assets import assets_dir
    from engine.body import SmplxModelNotFound, default_avatar
    from engine.body.smplx_model import find_smplx_model_file, read_smplx_model_file
    from engine.settings import resolve_smplx_dir, settings_path

    avatar = default_avatar()
    print(f"Sign Studio engine {engine.__version__}")
    print(f"assets: {assets_dir()}")
    print(f"default avatar: {avatar.num_vertices} vertices, {len(avatar.faces)} triangles, "
          f"{len(avatar.blendshape_names_supported)} face blendshapes")
    print(f"settings: {settings_path()}")
    try:
        checked = read_smplx_model_file(find_smplx_model_file(resolve_smplx_dir(args.smplx_dir)))
        print(f"SMPL-X: {checked.path}")
        for member, why in sorted(checked.ignored.items()):
            print(f"  ignored member '{member}': {why}")
    except SmplxModelNotFound as error:
        print(f"SMPL-X: unavailable: {error}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Show, change or reset the saved settings (shared with the studio). A damaged file
    is repaired by ``set`` or ``reset``, which keep it aside first."""
    from engine.settings import (
        FIELDS, Settings, keep_damaged_settings, read_settings, save_settings, settings_path,
    )

    settings = read_settings().settings
    if args.action in ("set", "reset"):
        if args.action == "set":
            if args.key not in FIELDS:
                raise UsageError(f"config: unknown setting '{args.key}'; expected one of {FIELDS}")
            if args.value is None:
                raise UsageError(f"config set {args.key}: expected a value")
            settings = settings.replace(**{args.key: args.value})
        else:
            settings = Settings()
        backup = keep_damaged_settings()
        if backup is not None:
            print(f"kept the damaged settings file as {backup}")
        print(f"wrote {save_settings(settings)}")
    print(f"# {settings_path()}")
    for name in FIELDS:
        print(f"{name} = {getattr(settings, name)}")
    return 0


class _StepBars:
    """Progress and narration for a job of several steps: each step (a new total) gets
    its own bar, and a narrated line first closes the bar it would otherwise cut."""

    def __init__(self, description: str):
        self._description = description
        self._bar: _Bar | None = None
        self._total: int | None = None

    def progress(self, done: int, total: int, message: str = "") -> None:
        if self._bar is None or total != self._total:
            self.close()
            self._bar, self._total = _Bar(self._description), total
        self._bar(done, total, message)

    def say(self, line: str) -> None:
        self.close()
        print(line, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.workflows.demo import DemoOptions, run_demo

    options = DemoOptions(out=Path(args.out), text=args.text, language=args.lang,
                          workers=args.workers, width=args.width, height=args.height,
                          avatar=args.avatar, smplx_dir=args.smplx_dir)
    steps = _StepBars("demo")
    try:
        run_demo(options, say=steps.say, progress=steps.progress)
    finally:
        steps.close()
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from engine.motion import load_project
    from engine.workflows.export import render_frame

    result = render_frame(load_project(args.project), args.frame, args.output,
                          _export_options(args))
    for note in result.notes:
        print(note, file=sys.stderr)
    print(f"wrote {result.path}")
    return 0


def _needs(args: argparse.Namespace, usage: str, *names: str) -> None:
    if any(not getattr(args, name) for name in names):
        raise UsageError(f"lexicon {args.action}: expected {usage}")


def cmd_lexicon(args: argparse.Namespace) -> int:
    from engine.workflows import lexicon as workflow

    store, note = workflow.open_lexicon(args.db, rebuilding=args.action == "build")
    if note:
        print(note, file=sys.stderr)
    with store:
        if args.action == "build":
            options = workflow.BuildOptions(tuple(args.lang or ()), args.gloss, args.workers)
            with _Bar("building the lexicon") as bar:
                result = workflow.build_lexicon(store, options, progress=bar)
            print(result.letters.summary())
            if result.signs is not None:
                print("DSGS signs: " + result.signs.summary())
            print(f"lexicon: {store.path} ({len(store)} entries)")
            return 1 if result.failed else 0
        if args.action == "add-notation":
            _needs(args, '"HAMNOSYS" --gloss G --lang L', "video", "gloss", "lang")
            entry_id = workflow.add_notated_sign(store, args.video, args.gloss, args.lang[0],
                                                 words=tuple(args.word or ()))
            print(f"added {args.gloss} ({args.lang[0]}) from notation as entry {entry_id}")
        elif args.action == "add-sigml":
            _needs(args, "FILE --lang L", "video", "lang")
            ids = workflow.add_sigml_signs(store, args.video, args.lang[0])
            print(f"added {len(ids)} signs from {args.video} ({args.lang[0]}): entries "
                  + ", ".join(map(str, ids)))
        elif args.action == "add":
            _needs(args, "VIDEO --gloss G --lang L", "video", "gloss", "lang")
            with _Bar(f"reconstructing {args.gloss}") as bar:
                entry_id = workflow.add_recorded_sign(store, args.video, args.gloss,
                                                      args.lang[0], words=tuple(args.word or ()),
                                                      progress=bar)
            summary = next(s for s in store.list(args.lang[0]) if s.id == entry_id)
            print(f"added {summary.gloss} ({summary.language}) as entry {entry_id}: "
                  f"{summary.num_frames} frames; the fitted hand is "
                  f"{_hand_fit(summary.quality)} of the hand's size from the video's keypoints "
                  f"(median; {_hand_fit(summary.quality, 'hand_error_p95')} at the 95th "
                  "percentile)")
            quality = summary.quality
            if "face" in quality or "face_missing" in quality:
                print(f"face: {quality.get('face') or 'not seen on frames ' + quality['face_missing']}"
                      " (held neutral there; the rest of the fit is kept)")
        else:
            _print_entries(store, args)
        return 0


def _print_entries(store, args: argparse.Namespace) -> None:
    import json

    entries = [e for lang in (args.lang or [None]) for e in store.list(lang)]
    if args.json:
        print(json.dumps([e.__dict__ for e in entries], ensure_ascii=False, indent=1))
        return
    for e in entries:
        print(f"{e.id:5d}  {e.language}  {e.kind:8s}  {e.gloss:10s}  "
              f"{e.num_frames:4d} frames at {e.fps:g} fps  fit {_hand_fit(e.quality):>5s}  "
              f"{e.source}" + (f"  [damaged row: {e.problem}]" if e.problem else ""))
    damaged = sum(bool(e.problem) for e in entries)
    print(f"{len(entries)} entries in {store.path}"
          + (f"; {damaged} with damaged fields (marked)" if damaged else ""))
    if any(_hand_fit(e.quality) != "-" for e in entries):
        print("fit: median distance of the fitted hand from the recording's hand keypoints, "
              "in % of the hand's size (- : made from notation, nothing to fit)")


def _hand_fit(quality: dict, key: str = "hand_error_median") -> str:
    """A fitted entry's hand error as a percentage of the hand's size ("5.6%"), or "-"."""
    error = quality.get(key)
    if isinstance(error, bool) or not isinstance(error, (int, float)) or error != error:
        return "-"
    return f"{100 * error:.1f}%"


def cmd_generate(args: argparse.Namespace) -> int:
    import json

    from engine.workflows.generate import GenerateOptions, generate_signing

    from engine.workflows.export import export_format

    export_format(args.output)  # an output we cannot write is refused before any work
    options = GenerateOptions(args.lang, fps=args.fps, fit_letters=not args.no_fit,
                              tempo=args.tempo, mouthing=not args.no_mouthing)
    with _store(args) as store, _Bar("assembling") as bar:
        generation = generate_signing(store, args.text, options, progress=bar)
    for note in generation.notes:
        print(f"signstudio-cli: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(generation.report, ensure_ascii=False, indent=1))
    else:
        for token in generation.report["tokens"]:
            glosses = "-".join(token["glosses"]) or "-"
            note = f"  ({token['note']})" if token["note"] else ""
            print(f"  {token['text']:>16s}  {token['kind']:13s}  {glosses}{note}")
    project = generation.project
    _export(project, args.output, _export_options(args, frame_rate=False))
    if not args.json:
        print(f"wrote {args.output}: {project.motion}, {len(project.segments)} segments")
    return 0


def cmd_find_sign(args: argparse.Namespace) -> int:
    from engine.workflows.find_sign import FindSignOptions, SignFinder

    options = FindSignOptions(args.lang, top=args.top, route=args.route,
                              mirrored=args.selfie, clip_weights=args.clip_weights,
                              clip_model=args.clip_model)
    with _store(args) as store, _Bar("finding the sign") as bar:
        found = SignFinder(store).find(args.image, options, progress=bar)
    titles = {"mediapipe": "MediaPipe handshape:", "clip": f"CLIP image ({found.clip_model}):"}
    for route in ("mediapipe", "clip"):
        if route not in found.rankings and route not in found.notes:
            continue
        if args.route == "both":
            print(titles[route])
        if route in found.notes:  # why MediaPipe did not rank; what CLIP embedded
            print(f"   ({found.notes[route]})" if route == "clip" else f"   {found.notes[route]}",
                  file=sys.stderr if route == "clip" else sys.stdout)
        for rank, match in enumerate(found.rankings.get(route, ()), start=1):
            print(f"{rank}. {match.entry.gloss} ({match.entry.language}, entry "
                  f"{match.entry.id}): score {match.score:.2f}")
    return 0 if found.matches else 1


def cmd_export(args: argparse.Namespace) -> int:
    """Project or recording -> video, motion file, project or SiGML."""
    from engine.io import Kind
    from engine.workflows.export import export_format
    from engine.workflows.recording import open_as_project

    outputs = [output for output in (args.output, args.sigml) if output]
    if not outputs:
        raise UsageError("export: expected -o OUTPUT and/or --sigml FILE")
    kinds = [export_format(output).kind for output in outputs]  # before any slow reading
    if args.sigml and kinds[-1] is not Kind.NOTATION:
        raise UsageError(f"--sigml {args.sigml}: expected a file name ending in .sigml")
    options = _export_options(args)
    with _Bar(f"reading {Path(args.input).name}") as bar:
        project = open_as_project(args.input, progress=bar)
    for output in outputs:
        _export(project, output, options)
        print(f"wrote {output} ({project.motion})")
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    from engine.workflows.notation import notation_sheet_of

    with _store(args) as store:
        path, count = notation_sheet_of(store, args.glosses, args.lang, args.output,
                                        _body(args), tile=args.tile)
    print(f"wrote {path}: {count} signs")
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from engine.workflows.export import export_format
    from engine.workflows.notation import NotationOptions, sign_from_notation

    export_format(args.output)
    project = sign_from_notation(args.notation, NotationOptions(
        gloss=args.gloss or "", language=args.lang, fps=args.fps, avatar=args.avatar,
        smplx_dir=args.smplx_dir, mouthing=args.mouth))
    _export(project, args.output, _export_options(args, frame_rate=False))
    print(f"wrote {args.output}: {project.motion}, {len(project.keyframes)} keyframes at its "
          "postures")
    return 0


def _range(text: str, option: str) -> tuple[int, int]:
    """'2-4' -> (2, 4); '3' -> (3, 3); a UsageError naming ``option`` otherwise."""
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise UsageError(f"{option}: expected a number or a range like 2-4, got {text!r}") from None


def cmd_face(args: argparse.Namespace) -> int:
    from engine.face.presets import (
        all_presets, preset_from_markers, save_user_preset, user_presets_path,
    )
    from engine.motion import load_project
    from engine.motion.markers import MarkerKind
    from engine.workflows import face

    changes = (args.preset, args.marker, args.mouth, args.mouthing, args.clear,
               args.save_preset, args.output)
    if args.list:
        for preset in all_presets():
            parts = ", ".join(f"{p.kind.value} {p.intensity:g}" for p in preset.parts)
            print(f"preset {preset.name}: {preset.label} ({parts})")
        print("markers: " + ", ".join(k.value for k in MarkerKind))
        if args.project:
            for marker in load_project(args.project).markers:
                print(f"{args.project}: {marker.kind.value} frames {marker.start}-{marker.end} "
                      f"intensity {marker.intensity:g}")
        if not any(changes):
            return 0
    if not args.project:
        raise UsageError("face: expected a project file (or --list)")
    if not any(changes):
        raise UsageError("face: nothing to change; give --preset, --marker, --mouth, "
                         "--mouthing, --clear or --save-preset (--list shows what there is)")
    project = load_project(args.project)
    span = None
    if args.signs:
        first, last = _range(args.signs, "--signs")
        span = face.sign_span(project, first - 1, last - 1)
    elif args.frames:
        span = _range(args.frames, "--frames")
        if not 0 <= span[0] < span[1]:
            raise UsageError(f"--frames: expected START-END with 0 <= START < END, got "
                             f"{args.frames}")
    if (args.preset or args.marker or args.save_preset) and span is None:
        raise UsageError("face: --preset, --marker and --save-preset need --signs or --frames")
    if args.clear:
        project = project.replace(markers=())
    if args.preset:
        project = face.apply_preset(project, args.preset, *span)
    if args.marker:
        project = face.with_marker(project, face.marker_over(
            args.marker, *span, args.intensity, project.motion.fps))
    if args.mouth:
        project, unknown = face.set_mouthing(project, _range(args.mouth[0], "--mouth")[0] - 1,
                                             args.mouth[1])
        if unknown:
            print(f"signstudio-cli: note: no mouth shape for {', '.join(unknown)} (neutral)",
                  file=sys.stderr)
    if args.mouthing:
        project = project.replace(mouthing=args.mouthing == "on")
    if args.save_preset:
        inside = tuple(m for m in project.markers if span[0] <= m.start and m.end <= span[1])
        save_user_preset(preset_from_markers(args.save_preset, inside, project.motion.fps))
        print(f"saved preset '{args.save_preset}' ({len(inside)} markers) to {user_presets_path()}")
    output = args.output or args.project
    _export(project, output, _export_options(args, frame_rate=False))
    mouthed = sum(s.mouthing is not None for s in project.segments)
    print(f"wrote {output}: {len(project.markers)} markers, {mouthed} of "
          f"{len(project.segments)} signs mouthed (mouthing {'on' if project.mouthing else 'off'})")
    return 0


def cmd_check_project(args: argparse.Namespace) -> int:
    from engine.motion import load_project

    project = load_project(args.project)
    print(f"{args.project}: OK, '{project.title}', {project.motion}, "
          f"{len(project.keyframes)} keyframes, {len(project.segments)} segments, "
          f"avatar {project.avatar.value}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from engine.jobs import Cancelled
    from engine.workflows.train import TrainOptions, train_model

    bar = _Bar(f"train {args.model}")
    try:
        options = TrainOptions(
            model=args.model, out=Path(args.out), lexicon=Path(args.db) if args.db else None,
            settings=tuple(args.set or ()),
            steps=args.steps, seed=args.seed,
            held_out_languages=tuple(x for x in (args.held_out_langs or "").split(",") if x),
            resume=args.resume, clip_weights=Path(args.clip_weights) if args.clip_weights else None,
            clip_model=args.clip_model or "ViT-B-32",
            videos=tuple(Path(v) for v in args.video or ()))
        result = train_model(options, progress=bar)
    except KeyboardInterrupt:
        print("\ninterrupted; resume with the same command plus --resume", file=sys.stderr)
        return 130
    except Cancelled:
        return 130
    finally:
        bar.close()
    print(f"wrote {result.path} after {result.steps} steps "
          f"(loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f})")
    for note in result.notes:
        print(note)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from engine.workflows.train import EVAL_PARTS, EvalOptions, evaluate_models

    bar = _Bar("eval")
    try:
        options = EvalOptions(
            lexicon=Path(args.db) if args.db else None,
            parts=tuple(args.only or EVAL_PARTS),
            **{name: Path(getattr(args, name)) if getattr(args, name) else None
               for name in ("flow", "flow_languages", "cvae", "recognizer", "segmenter")},
            max_clips=args.max_clips, json_path=Path(args.json) if args.json else None)
        evaluate_models(options, progress=bar,
                        on_table=lambda title, table: print(f"\n{title}\n{table}"))
    finally:
        bar.close()
    if args.json:
        print(f"wrote {args.json}")
    return 0
