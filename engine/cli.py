"""``signstudio-cli``: the engine's command line (the GUI is optional).

Subcommands: ``info``, ``config``, ``demo``, ``render``, ``check-project``. Later issues add
lexicon, generate, export, train and eval. Errors print one clear line and exit 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import engine


def _body(args: argparse.Namespace):
    from engine.body import load_body_model

    return load_body_model(args.avatar, smplx_dir=getattr(args, "smplx_dir", None))


def cmd_info(args: argparse.Namespace) -> int:
    from engine.assets import assets_dir
    from engine.body import SmplxModelNotFound, default_avatar
    from engine.body.smplx_model import find_smplx_model_file

    avatar = default_avatar()
    print(f"Sign Studio engine {engine.__version__}")
    print(f"assets: {assets_dir()}")
    print(f"default avatar: {avatar.num_vertices} vertices, {len(avatar.faces)} triangles, "
          f"{len(avatar.blendshape_names_supported)} face blendshapes")
    from engine.settings import resolve_smplx_dir, settings_path

    print(f"settings: {settings_path()}")
    smplx_dir = resolve_smplx_dir(args.smplx_dir)
    try:
        print(f"SMPL-X: {find_smplx_model_file(smplx_dir)}")
    except SmplxModelNotFound as error:
        print(f"SMPL-X: unavailable: {error}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Show or change the saved settings (shared with the studio)."""
    from engine.settings import FIELDS, load_settings, save_settings, settings_path

    settings = load_settings()
    if args.action == "set":
        if args.key not in FIELDS:
            raise ValueError(f"config: unknown setting '{args.key}'; expected one of {FIELDS}")
        if args.value is None:
            raise ValueError(f"config set {args.key}: expected a value")
        settings = settings.replace(**{args.key: args.value})
        print(f"wrote {save_settings(settings)}")
    print(f"# {settings_path()}")
    for name in FIELDS:
        print(f"{name} = {getattr(settings, name)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Render the reference poses and save them as a playable project."""
    import imageio.v3 as iio

    from engine.export.render import OffscreenRenderer
    from engine.motion import Keyframe, Project, save_project
    from engine.motion.interpolate import chain
    from engine.body.reference_poses import reference_poses

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    body = _body(args)
    poses = reference_poses()
    with OffscreenRenderer(body, args.width, args.height) as renderer:
        for name, pose in poses.items():
            posed = body.forward(pose)
            renderer.set_camera(args.camera, posed.joints)
            path = out / f"{name}.png"
            iio.imwrite(path, renderer.render(posed.vertices[0]))
            print(f"wrote {path}")
    hold_frames, transition_frames = 20, 15
    motion = chain(list(poses.values()), hold_frames, transition_frames)
    step = hold_frames + transition_frames
    keyframes = tuple(Keyframe.from_motion(motion, i * step) for i in range(len(poses)))
    project = Project(motion=motion, keyframes=keyframes, title="Reference poses")
    save_project(project, out / "reference_poses.signstudio")
    print(f"wrote {out / 'reference_poses.signstudio'} ({motion})")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    import imageio.v3 as iio

    from engine.export.render import OffscreenRenderer
    from engine.motion import load_project

    project = load_project(args.project)
    motion = project.motion
    if not 0 <= args.frame < motion.num_frames:
        raise ValueError(f"--frame: expected 0..{motion.num_frames - 1}, got {args.frame}")
    body = _body(args)
    posed = body.forward(motion, slice(args.frame, args.frame + 1))
    with OffscreenRenderer(body, args.width, args.height) as renderer:
        renderer.set_camera(args.camera, posed.joints)
        iio.imwrite(args.output, renderer.render(posed.vertices[0]))
    print(f"wrote {args.output}")
    return 0


def cmd_check_project(args: argparse.Namespace) -> int:
    from engine.motion import load_project

    project = load_project(args.project)
    print(f"{args.project}: OK, '{project.title}', {project.motion}, "
          f"{len(project.keyframes)} keyframes, {len(project.segments)} segments, "
          f"avatar {project.avatar.value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from engine.export.render import CAMERA_PRESETS

    parser = argparse.ArgumentParser(prog="signstudio-cli", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=engine.__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    def avatar_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--avatar", choices=["default", "smplx"], default="default",
                       help="body model (smplx needs the licensed model folder)")
        p.add_argument("--smplx-dir", help="folder with SMPLX_NEUTRAL.npz "
                       "(default: $SIGNSTUDIO_SMPLX_DIR)")

    def render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--width", type=int, default=640)
        p.add_argument("--height", type=int, default=480)
        p.add_argument("--camera", choices=sorted(CAMERA_PRESETS), default="front")

    p = sub.add_parser("info", help="versions, assets and SMPL-X availability")
    p.add_argument("--smplx-dir")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("config", help="show or set saved settings (e.g. smplx_dir)")
    p.add_argument("action", choices=["show", "set"])
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="render the reference poses and save a demo project")
    p.add_argument("--out", default="signstudio-demo", help="output folder")
    avatar_options(p)
    render_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("render", help="render one frame of a project to PNG")
    p.add_argument("project")
    p.add_argument("--frame", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    avatar_options(p)
    render_options(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check-project", help="validate a .signstudio file")
    p.add_argument("project")
    p.set_defaults(func=cmd_check_project)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:  # includes MotionError, ProjectFileError
        print(f"signstudio-cli: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
