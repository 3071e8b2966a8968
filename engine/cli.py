"""``signstudio-cli``: the engine's command line, a thin adapter over ``engine.workflows``.

This module holds what the command line accepts (``build_parser``) and ``main``; each
command (``engine.cli_commands``) turns its arguments into a workflow's options, runs it
with a text progress bar and prints what it did. Errors are one ``signstudio-cli: error: ...`` line:
exit 2 for bad use (argparse's errors and ``UsageError``), 1 when the work could not be
done (a damaged file, nothing to sign), 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import sys

import engine
from engine.cli_commands import (
    cmd_check_project, cmd_config, cmd_demo, cmd_eval, cmd_export, cmd_face, cmd_find_sign,
    cmd_generate, cmd_info, cmd_lexicon, cmd_render, cmd_sheet, cmd_sign, cmd_train,
)
from engine.motion.errors import UsageError
from engine.motion.markers import MarkerKind


class _Parser(argparse.ArgumentParser):
    """argparse with our one error line: ``signstudio-cli: error: COMMAND: ...`` (exit 2)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        command = self.prog.removeprefix("signstudio-cli").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"signstudio-cli: error: {where}{message}\n")


def frame_rate(text: str) -> float:
    """An ``--fps`` value, refused outside ``OUTPUT_FPS`` with the accepted range."""
    from engine.workflows.export import OUTPUT_FPS

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    low, high = OUTPUT_FPS
    if not low <= value <= high:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected {low:g} to {high:g} frames per second, "
                                         f"got {text!r}")
    return value


def pixels(text: str) -> int:
    """A ``--width``/``--height`` value, refused outside ``VIDEO_PIXELS``."""
    from engine.workflows.export import VIDEO_PIXELS

    low, high = VIDEO_PIXELS
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels from {low} to "
                                         f"{high}, got {text!r}")
    return value


def _outputs_help(kinds) -> str:
    """"out.{signstudio,mp4,...}": what ``-o`` accepts, from the file-format registry."""
    from engine.io import suffixes

    return "out.{" + ",".join(suffix.lstrip(".") for suffix in suffixes(kinds, "write")) + "}"


def build_parser() -> argparse.ArgumentParser:
    from engine.io import Kind, suffixes
    from engine.workflows.export import ANTI_ALIASING, CAMERAS, EXPORT_KINDS, RENDERERS, ExportOptions
    from engine.workflows.recording import RECORDING_KINDS

    defaults = ExportOptions()

    parser = _Parser(prog="signstudio-cli", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=engine.__version__)
    parser.add_argument("--debug", action="store_true",
                        help="on an unexpected error, also print Python's traceback")
    sub = parser.add_subparsers(dest="command", required=True)

    def avatar_options(p: argparse.ArgumentParser, default: str | None = "default") -> None:
        p.add_argument("--avatar", choices=["default", "smplx"], default=default,
                       help="body model (smplx needs the licensed model folder)"
                       + ("" if default else "; default: the project's"))
        p.add_argument("--smplx-dir", help="folder with SMPLX_NEUTRAL.npz "
                       "(default: $SIGNSTUDIO_SMPLX_DIR)")

    def render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--width", type=pixels, default=640)
        p.add_argument("--height", type=pixels, default=480)
        p.add_argument("--camera", choices=CAMERAS, default=defaults.camera)

    p = sub.add_parser("info", help="versions, assets and SMPL-X availability")
    p.add_argument("--smplx-dir")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("config", help="show, set or reset saved settings (e.g. smplx_dir)")
    p.add_argument("action", choices=["show", "set", "reset"],
                   help="reset: back to the defaults (a damaged file is kept aside)")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="the main job on the embedded defaults: hand-shape "
                       "pictures, a lexicon from real clips, text to a project, video, contact sheet")
    p.add_argument("--out", default="signstudio-demo", help="output folder")
    p.add_argument("--text", default="hello", help="what to sign (default: hello)")
    p.add_argument("--lang", default="ase", help="sign language code (default: ase, ASL)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="fitting processes (default: one per core)")
    p.add_argument("--width", type=pixels, default=640, help="pixels of pictures and video")
    p.add_argument("--height", type=pixels, default=480)
    avatar_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("render", help="render one frame of a project to PNG")
    p.add_argument("project")
    p.add_argument("--frame", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    avatar_options(p, default=None)
    render_options(p)
    p.set_defaults(func=cmd_render)

    def db_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="lexicon database (default: $SIGNSTUDIO_LEXICON, the "
                       "lexicon_path setting, or the user data folder)")

    p = sub.add_parser("lexicon", help="build, add to or list the sign lexicon")
    p.add_argument("action", choices=["build", "add", "add-notation", "add-sigml", "list"],
                   help="build: the package's letters (and, for sgg, its DSGS signs); add: a "
                   "video of one sign; add-notation: a sign from HamNoSys; add-sigml: the "
                   "signs of a SiGML file")
    p.add_argument("video", nargs="?", metavar="SOURCE",
                   help="(add) a video of one sign; (add-notation) HamNoSys, as symbols or "
                   "names such as \"fist extfingeru palmd chest\"; (add-sigml) a .sigml file")
    p.add_argument("--lang", action="append", help="sign language code(s), e.g. ase")
    p.add_argument("--gloss", help="(add) the sign's gloss, e.g. HELLO; (build) only this gloss")
    p.add_argument("--word", action="append", help="(add) spoken word(s) it translates")
    p.add_argument("--json", action="store_true", help="(list) JSON output")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="(build) fitting processes (default: one per core)")
    db_option(p)
    p.set_defaults(func=cmd_lexicon)

    p = sub.add_parser("generate", help="text to a signed motion (project or motion file)")
    p.add_argument("text")
    p.add_argument("--lang", required=True, help="sign language code, e.g. ase")
    p.add_argument("-o", "--output", required=True,
                   help=_outputs_help(EXPORT_KINDS))
    p.add_argument("--fps", type=frame_rate, default=30.0,
                   help="frames per second of the result (1 to 240, default 30)")
    p.add_argument("--json", action="store_true", help="print the coverage report as JSON")
    p.add_argument("--tempo", type=float, default=None,
                   help="signing pace: 1 the default, 2 twice as fast, 0.5 half (default: "
                        "the signing_speed setting)")
    p.add_argument("--no-fit", action="store_true",
                   help="sign only with what the lexicon holds (by default the letters the "
                   "text needs are first fitted from the package's recordings)")
    p.add_argument("--no-mouthing", action="store_true",
                   help="the signs are not mouthed (each still carries its word: `face "
                        "--mouthing on` plays it later)")
    db_option(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("find-sign", help="image of a handshape -> matching lexicon entries")
    p.add_argument("image")
    p.add_argument("--lang", required=True)
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--selfie", action="store_true", help="the image is mirrored (front camera)")
    p.add_argument("--route", choices=["mediapipe", "clip", "both"], default="mediapipe",
                   help="MediaPipe hand landmarks (default, offline), CLIP image embeddings "
                   "of rendered thumbnails (needs local CLIP weights), or both rankings")
    p.add_argument("--clip-weights", help="open_clip weights file or folder (default: "
                   "$SIGNSTUDIO_CLIP_WEIGHTS, then the clip_weights setting); never downloaded")
    p.add_argument("--clip-model", help="open_clip architecture of a weights file "
                   "(default: the clip_model setting, ViT-B-32)")
    db_option(p)
    p.set_defaults(func=cmd_find_sign)

    p = sub.add_parser("sign", help="HamNoSys notation -> one sign (project, video or "
                       "motion file)")
    p.add_argument("notation", help="HamNoSys symbols, or their names separated by spaces "
                   "(\"flathand extfingeru palml chest touch\")")
    p.add_argument("-o", "--output", required=True,
                   help=_outputs_help(EXPORT_KINDS))
    p.add_argument("--gloss", help="the sign's gloss (default: SIGN)")
    p.add_argument("--lang", default="sgg", help="its sign language (default: sgg, DSGS)")
    p.add_argument("--mouth", help="the word the sign is mouthed with (default: the gloss's "
                                   "word; \"\" for none)")
    p.add_argument("--fps", type=frame_rate, default=30.0,
                   help="frames per second (1 to 240, default 30)")
    render_options(p)
    p.set_defaults(captions=True, anti_aliasing="none")
    avatar_options(p)
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("sheet", help="contact sheet of lexicon signs made from notation: "
                       "SignWriting beside the avatar's postures")
    p.add_argument("glosses", nargs="+", help="glosses, e.g. HAUS KIND WASSER")
    p.add_argument("--lang", default="sgg", help="their sign language (default: sgg, DSGS)")
    p.add_argument("-o", "--output", required=True, help="sheet.png")
    p.add_argument("--tile", type=pixels, default=220, help="pixels per picture")
    db_option(p)
    avatar_options(p)
    p.set_defaults(func=cmd_sheet)

    p = sub.add_parser("export", help="project or motion file -> video, motion file or SiGML")
    p.add_argument("input", help="a project or a recording: " + ", ".join(
        suffixes((Kind.PROJECT, *RECORDING_KINDS), "read")) + " (videos and .pose are fitted)")
    p.add_argument("-o", "--output", help=_outputs_help(EXPORT_KINDS))
    p.add_argument("--sigml", help="also (or only) write the signs made from notation as "
                   "SiGML, for JASigning")
    p.add_argument("--width", type=pixels, default=defaults.width, help="video pixels")
    p.add_argument("--height", type=pixels, default=defaults.height, help="video pixels")
    p.add_argument("--fps", type=frame_rate,
                   help="frames per second of a video or motion file (default: the motion's)")
    p.add_argument("--camera", choices=CAMERAS, default=defaults.camera)
    p.add_argument("--no-captions", dest="captions", action="store_false",
                   help="do not caption each sign's gloss")
    p.add_argument("--anti-aliasing", choices=ANTI_ALIASING, default=defaults.anti_aliasing,
                   help="smoother edges, slower (none is real time at 720p)")
    avatar_options(p, default=None)
    p.add_argument("--renderer", choices=RENDERERS, default=defaults.renderer,
                   help="who a video shows: the avatar, or you as a photoreal model learned "
                        "you (`train pgmm`)")
    p.add_argument("--model", dest="photoreal_model",
                   help="(--renderer photoreal) the checkpoint `train pgmm` wrote")
    p.add_argument("--side-by-side", action="store_true", default=None,
                   help="(--renderer photoreal) the avatar beside the drawn signer")
    p.set_defaults(func=cmd_export)

    from engine.workflows.train import EVAL_PARTS, TRAINERS

    p = sub.add_parser("train", help="train a learned model on the lexicon, or (pgmm) on "
                       "videos of you (resumable)")
    p.add_argument("model", choices=sorted(TRAINERS))
    p.add_argument("--out", required=True, help="checkpoint to write (<out>.resume.pt while training)")
    p.add_argument("--steps", type=int, help="training steps, train.steps (default: the model's own)")
    p.add_argument("--seed", type=int, help="random seed, train.seed (default 0)")
    p.add_argument("--resume", action="store_true",
                   help="continue from <out>.resume.pt (hand_reader: and from the renders saved "
                        "in <out>.readings.npz)")
    p.add_argument("--held-out-langs", help="comma-separated sign languages never trained on "
                   "(split.held_out_languages); the other languages' clips are still held out "
                   "by hash (split.held_out_fraction). hand_reader: letters never rendered")
    p.add_argument("--clip-weights", help="(cvae) condition through CLIP with these weights")
    p.add_argument("--clip-model", help="(cvae) open_clip architecture (default ViT-B-32)")
    p.add_argument("--video", action="append", metavar="VIDEO",
                   help="(pgmm) a recording of yourself signing, to learn to draw you "
                        "(repeatable; one signer)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="any field of the trainer's config by its dotted path, e.g. "
                        "train.lr=0.0005 or sampling.mean_first=true (repeatable; the "
                        "manifest records the config; docs/learned-models.md)")
    db_option(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate the learned models on held-out data")
    p.add_argument("--only", action="append", choices=EVAL_PARTS,
                   help="evaluate only this part (repeatable; default all)")
    p.add_argument("--flow", help="flow checkpoint (default: the shipped one)")
    p.add_argument("--flow-languages", help="a flow checkpoint trained without some languages: "
                   "adds the held-out-language KF2P table")
    p.add_argument("--cvae", help="CVAE checkpoint (default: the shipped one)")
    p.add_argument("--recognizer", help="recognizer checkpoint (default: the shipped one)")
    p.add_argument("--segmenter", help="segmenter checkpoint (default: the shipped one)")
    p.add_argument("--max-clips", type=int, help="(kf2p) only the first N held-out clips")
    p.add_argument("--json", help="also write the full results as JSON")
    db_option(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("face", help="the face of a project: grammatical presets, markers, "
                       "mouthing")
    p.add_argument("project", nargs="?", help="the .signstudio file to change")
    p.add_argument("-o", "--output", help="where to write the result (default: in place)")
    p.add_argument("--preset", help="a grammatical preset (--list shows them), over --signs "
                                    "or --frames")
    p.add_argument("--marker", choices=[k.value for k in MarkerKind],
                   help="one non-manual marker, over --signs or --frames")
    p.add_argument("--intensity", type=float, default=1.0, help="(--marker) 0 to 1")
    p.add_argument("--signs", help="signs by number, e.g. 2 or 2-4 (the first is 1)")
    p.add_argument("--frames", help="frames START-END (END not included)")
    p.add_argument("--mouth", nargs=2, metavar=("SIGN", "WORD"),
                   help="mouth sign number SIGN with WORD (\"\" for none)")
    p.add_argument("--mouthing", choices=["on", "off"], help="play the signs' mouthing or not")
    p.add_argument("--clear", action="store_true", help="remove every marker first")
    p.add_argument("--save-preset", metavar="NAME",
                   help="save the markers over --signs/--frames as your own preset NAME")
    p.add_argument("--list", action="store_true", help="list the presets and the markers")
    p.set_defaults(func=cmd_face)

    p = sub.add_parser("check-project", help="validate a .signstudio file")
    p.add_argument("project")
    p.set_defaults(func=cmd_check_project)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error ends as one ``signstudio-cli: error: ...`` line
    (Python's traceback only with ``--debug``): exit 2 for bad use, 1 for a failure,
    130 on Ctrl-C."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, as the error hint suggests it.
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    from engine.motion.errors import user_message
    from engine.settings import read_settings

    problem = read_settings().problem
    if problem:
        print(f"signstudio-cli: warning: {problem}; using the defaults for it "
              "(`signstudio-cli config reset` or `config set` repairs the file and keeps "
              "the damaged one aside)", file=sys.stderr)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: every writer is atomic, so nothing is half-written
        print("signstudio-cli: cancelled", file=sys.stderr)
        return 130
    except Exception as error:  # the one place an error becomes the user's message
        from engine.jobs import Cancelled

        if isinstance(error, Cancelled):
            print("signstudio-cli: cancelled", file=sys.stderr)
            return 130
        if debug:
            import traceback

            traceback.print_exc()
        expected = isinstance(error, (ValueError, OSError))
        hint = "" if expected or debug else " (run with --debug for the details)"
        print(f"signstudio-cli: error: {user_message(error)}{hint}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1


if __name__ == "__main__":
    sys.exit(main())
