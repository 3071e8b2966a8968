"""BVH (Biovision Hierarchy) export and import of the 55-joint SMPL-X skeleton.

What our files hold (and what ``read_bvh`` expects of a file to read it exactly):

* HIERARCHY: the 55 joints of ``engine.body.skeleton`` under their SMPL-X names
  (``pelvis`` is the ROOT), fingers included, depth first. OFFSETs are the body's rest
  T-pose bone vectors (``rest_joints[j] - rest_joints[parent]``) in CENTIMETRES: most
  BVH tools (MotionBuilder, Maya, Blender's importer at scale 1 with a 0.01 unit) and the
  CMU/Mixamo files assume centimetres. The ROOT's OFFSET is the rest pelvis position.
* Axes are SMPL-X's: Y up, the body faces +Z, the subject's left at +X (right-handed).
  Every joint frame is world-aligned at rest (the SMPL-X T-pose), so a BVH rotation is
  the SMPL-X axis-angle of that joint, re-expressed as Euler angles.
* CHANNELS: ROOT ``Xposition Yposition Zposition Zrotation Xrotation Yrotation``, every
  other joint ``Zrotation Xrotation Yrotation``. Angles in DEGREES, intrinsic Z-X-Y as BVH
  defines channel order: the local rotation is ``R = Rz(a) @ Rx(b) @ Ry(c)`` (scipy's
  ``Rotation.from_euler("ZXY", [a, b, c], degrees=True)``; column vectors).
* Root positions are ABSOLUTE (the pelvis's world position, ``transl + rest pelvis``, in
  cm), which is how Blender, three.js and pybvh read them: the root OFFSET only places
  the rest skeleton. ``read_bvh`` recovers ``transl = position - root OFFSET``.
* End Sites close the leaf joints (feet, jaw, eyes, each finger's last joint). Their
  offset is the rest vector from the joint to the mesh vertex that continues the bone
  furthest (fingertips, toe tips, chin, the front of each eye), picked from the body's
  skin weights (``leaf_tip_vertices``); a body without a mesh gets the parent bone's
  direction with its length (a guess, documented as such).
* ``Frame Time`` is ``1 / fps`` at full precision. Values are written with 6 decimals
  (1e-6 degree, 1e-8 m): a round trip is exact to float32 rotation precision.

A BVH carries only the skeleton's rotations and the root translation: face blendshapes,
expression and betas are not in it and read back as zeros.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from engine.atomic import atomic_output
from engine.body.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS
from engine.body.tips import end_site_offsets
from engine.motion.errors import ProjectFileError
from engine.motion.motion import Motion

#: Euler order of every rotation channel triple (intrinsic, as BVH channel order means).
EULER_ORDER = "ZXY"
#: Centimetres per metre: BVH lengths are written in cm.
BVH_UNITS_PER_METRE = 100.0
_DECIMALS = 6

_CHILDREN: dict[int, list[int]] = {j: [] for j in range(NUM_JOINTS)}
for _j in range(1, NUM_JOINTS):
    _CHILDREN[int(PARENTS[_j])].append(_j)


def _depth_first() -> list[int]:
    order: list[int] = []
    stack = [0]
    while stack:
        joint = stack.pop()
        order.append(joint)
        stack.extend(reversed(_CHILDREN[joint]))
    return order


#: Joint indices in the order their channels appear in a frame line (depth first).
BVH_JOINT_ORDER: tuple[int, ...] = tuple(_depth_first())


# --- end sites ----------------------------------------------------------------------

# --- writing ------------------------------------------------------------------------

def _fmt(values) -> str:
    return " ".join(f"{v:.{_DECIMALS}f}" for v in values)


def bvh_text(motion: Motion, body=None) -> str:
    """The BVH file for ``motion`` on ``body``'s skeleton (default avatar) as text."""
    if body is None:
        from engine.body.default_avatar import default_avatar  # lazy: loads the asset

        body = default_avatar()
    rest = np.asarray(body.rest_joints, np.float64)
    if rest.shape != (NUM_JOINTS, 3):
        raise ValueError(f"body.rest_joints: expected shape (55, 3), got {rest.shape}")
    units = BVH_UNITS_PER_METRE
    ends = end_site_offsets(body) * units
    out = io.StringIO()
    out.write("HIERARCHY\n")

    def write_joint(joint: int, depth: int) -> None:
        pad = "\t" * depth
        if joint == 0:
            out.write(f"ROOT {JOINT_NAMES[0]}\n{pad}{{\n")
            out.write(f"{pad}\tOFFSET {_fmt(rest[0] * units)}\n")
            out.write(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition "
                      "Zrotation Xrotation Yrotation\n")
        else:
            out.write(f"{pad}JOINT {JOINT_NAMES[joint]}\n{pad}{{\n")
            out.write(f"{pad}\tOFFSET {_fmt((rest[joint] - rest[PARENTS[joint]]) * units)}\n")
            out.write(f"{pad}\tCHANNELS 3 Zrotation Xrotation Yrotation\n")
        for child in _CHILDREN[joint]:
            write_joint(child, depth + 1)
        if not _CHILDREN[joint]:
            out.write(f"{pad}\tEnd Site\n{pad}\t{{\n{pad}\t\tOFFSET {_fmt(ends[joint])}\n"
                      f"{pad}\t}}\n")
        out.write(f"{pad}}}\n")

    write_joint(0, 0)
    f = motion.num_frames
    euler = Rotation.from_rotvec(
        motion.full_pose().reshape(-1, 3).astype(np.float64)
    ).as_euler(EULER_ORDER, degrees=True).reshape(f, NUM_JOINTS, 3)
    root = (motion.transl.astype(np.float64) + rest[0]) * units
    frames = np.concatenate([root, euler[:, list(BVH_JOINT_ORDER)].reshape(f, -1)], axis=1)
    out.write(f"MOTION\nFrames: {f}\nFrame Time: {1.0 / motion.fps!r}\n")
    np.savetxt(out, frames, fmt=f"%.{_DECIMALS}f")
    return out.getvalue()


def write_bvh(motion: Motion, path: str | Path, body=None) -> Path:
    """Write ``motion`` as a BVH file (see the module docstring), atomically.

    ``body``: whose rest skeleton and end sites to use (default: the default avatar).
    """
    path = Path(path)
    text = bvh_text(motion, body)
    with atomic_output(path) as temp:
        temp.write_text(text, encoding="ascii")
    return path


# --- reading ------------------------------------------------------------------------

_ROTATION_CHANNEL = re.compile(r"^([XYZ])rotation$", re.IGNORECASE)
_POSITION_CHANNEL = re.compile(r"^([XYZ])position$", re.IGNORECASE)


#: Limits on a BVH hierarchy we read (SMPL-X: 55 joints, the deepest 21 below the root),
#: so a hostile file is refused by line instead of exhausting Python's recursion.
MAX_BVH_DEPTH = 100
MAX_BVH_JOINTS = 1000


class _Tokens:
    """Whitespace tokens of the HIERARCHY part with their line numbers, for errors."""

    def __init__(self, lines: list[str], path: Path, first_line: int):
        self.items = [(tok, first_line + n) for n, line in enumerate(lines) for tok in line.split()]
        self.pos = 0
        self.path = path

    def next(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.items):
            raise ProjectFileError(self.path, f"BVH ends early: expected {what}")
        item = self.items[self.pos]
        self.pos += 1
        return item

    def expect(self, word: str) -> int:
        tok, line = self.next(repr(word))
        if tok != word:
            raise ProjectFileError(self.path, f"BVH line {line}: expected {word!r}, got {tok!r}")
        return line

    def number(self, what: str) -> float:
        tok, line = self.next(what)
        try:
            value = float(tok)
        except ValueError:
            raise ProjectFileError(
                self.path, f"BVH line {line}: expected a number for {what}, got {tok!r}") from None
        if not math.isfinite(value):
            raise ProjectFileError(self.path, f"BVH line {line}: {what} is {tok}")
        return value


def _parse_hierarchy(tokens: _Tokens, path: Path):
    """Returns (joint names in file order, parent name per joint, offsets (J, 3), channel
    lists per joint)."""
    names: list[str] = []
    parents: list[str | None] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []

    def parse_joint(parent: str | None, depth: int) -> None:
        name, line = tokens.next("a joint name")
        if depth > MAX_BVH_DEPTH:
            raise ProjectFileError(path, f"BVH line {line}: joint {name!r} is nested more than "
                                         f"{MAX_BVH_DEPTH} deep (SMPL-X's deepest joint: 21)")
        if len(names) >= MAX_BVH_JOINTS:
            raise ProjectFileError(path, f"BVH line {line}: more than {MAX_BVH_JOINTS} joints "
                                         "(SMPL-X has 55)")
        if name in names:
            raise ProjectFileError(path, f"BVH line {line}: joint {name!r} appears twice")
        tokens.expect("{")
        tokens.expect("OFFSET")
        offset = [tokens.number(f"{name} OFFSET") for _ in range(3)]
        tokens.expect("CHANNELS")
        count_tok, line = tokens.next(f"{name} channel count")
        if not count_tok.isdigit():
            raise ProjectFileError(path, f"BVH line {line}: expected a channel count, got {count_tok!r}")
        chans = [tokens.next(f"{name} channel")[0] for _ in range(int(count_tok))]
        names.append(name)
        parents.append(parent)
        offsets.append(offset)
        channels.append(chans)
        while True:
            tok, line = tokens.next(f"'JOINT', 'End Site' or '}}' in {name}")
            if tok == "JOINT":
                parse_joint(name, depth + 1)
            elif tok == "End":
                tokens.expect("Site")
                tokens.expect("{")
                tokens.expect("OFFSET")
                for _ in range(3):
                    tokens.number(f"{name} End Site OFFSET")
                tokens.expect("}")
            elif tok == "}":
                return
            else:
                raise ProjectFileError(path, f"BVH line {line}: unexpected {tok!r} in joint {name}")

    tokens.expect("ROOT")
    parse_joint(None, 0)
    return names, parents, np.array(offsets, np.float64), channels


def read_bvh(path: str | Path, fps: float | None = None) -> Motion:
    """Read a BVH of the 55-joint SMPL-X skeleton (as ``write_bvh`` writes) into a Motion.

    Any rotation channel order per joint is accepted (each joint's order is read from
    its CHANNELS line), as are any rest OFFSETs: rotations are local to world-aligned
    rest frames, so the offsets only matter for the root (``transl = root position -
    root OFFSET``, cm -> m). Every joint name of ``engine.body.skeleton`` must be there
    with its SMPL-X parent. ``fps`` overrides the Frame Time (1 / Frame Time otherwise).
    Raises ``ProjectFileError`` naming the file, line and problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ProjectFileError(path, "file not found" if not path.exists() else "not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectFileError(path, f"cannot read as a text BVH file: {exc}") from exc
    lines = text.splitlines()
    motion_at = next((i for i, line in enumerate(lines) if line.strip() == "MOTION"), None)
    if not lines or lines[0].strip() != "HIERARCHY":
        raise ProjectFileError(path, "not a BVH file: the first line must be 'HIERARCHY'")
    if motion_at is None:
        raise ProjectFileError(path, "BVH has no MOTION section (truncated?)")
    tokens = _Tokens(lines[1:motion_at], path, first_line=2)
    names, parents, offsets, channels = _parse_hierarchy(tokens, path)
    if tokens.pos != len(tokens.items):
        tok, line = tokens.items[tokens.pos]
        raise ProjectFileError(path, f"BVH line {line}: unexpected {tok!r} after the hierarchy")

    missing = [n for n in JOINT_NAMES if n not in names]
    unknown = [n for n in names if n not in JOINT_INDEX]
    if missing or unknown:
        raise ProjectFileError(
            path, f"not the 55-joint SMPL-X skeleton: missing joints {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}, unknown joints {unknown[:5]}")
    for name, parent in zip(names, parents):
        want = PARENTS[JOINT_INDEX[name]]
        if (parent is None and want != -1) or (parent is not None and JOINT_INDEX[parent] != want):
            raise ProjectFileError(
                path, f"joint {name!r} hangs from {parent!r}; the SMPL-X skeleton hangs it from "
                f"{JOINT_NAMES[want] if want >= 0 else 'nothing (root)'}")

    # Column layout of a frame line, from the CHANNELS lines.
    columns = 0
    rotation_columns: list[tuple[int, list[int], str]] = []  # (joint, 3 columns, order)
    position_columns: list[int] = []
    for name, chans in zip(names, channels):
        rot_cols, order = [], ""
        for chan in chans:
            if m := _ROTATION_CHANNEL.match(chan):
                rot_cols.append(columns)
                order += m.group(1).upper()
            elif m := _POSITION_CHANNEL.match(chan):
                if name != JOINT_NAMES[0] or len(position_columns) == 3:
                    raise ProjectFileError(path, f"joint {name!r}: position channels are only "
                                           "read on the root (pelvis), three of them")
                if "XYZ".index(m.group(1).upper()) != len(position_columns):
                    raise ProjectFileError(path, f"joint {name!r}: expected position channels "
                                           "in the order Xposition Yposition Zposition")
                position_columns.append(columns)
            else:
                raise ProjectFileError(path, f"joint {name!r}: unknown channel {chan!r}")
            columns += 1
        if len(rot_cols) != 3 or len(set(order)) != 3:
            raise ProjectFileError(
                path, f"joint {name!r}: expected three rotation channels about X, Y and Z, "
                f"got {chans}")
        rotation_columns.append((JOINT_INDEX[name], rot_cols, order))

    header = lines[motion_at + 1: motion_at + 3]
    frames_match = re.fullmatch(r"\s*Frames:\s*(\d+)\s*", header[0]) if header else None
    time_match = (re.fullmatch(r"\s*Frame Time:\s*(\S+)\s*", header[1])
                  if len(header) > 1 else None)
    if not frames_match or not time_match:
        raise ProjectFileError(path, f"BVH line {motion_at + 2}: expected 'Frames: N' then "
                               "'Frame Time: SECONDS' after MOTION")
    num_frames = int(frames_match.group(1))
    try:
        frame_time = float(time_match.group(1))
    except ValueError:
        frame_time = float("nan")
    if num_frames < 1:
        raise ProjectFileError(path, "BVH holds no frames (Frames: 0)")
    if fps is None:
        if not (math.isfinite(frame_time) and frame_time > 0):
            raise ProjectFileError(path, f"Frame Time must be a positive number of seconds, "
                                   f"got {time_match.group(1)!r}")
        fps = 1.0 / frame_time
        # 1 / (1 / fps) can be off in the last bit: snap what is a round rate.
        if abs(fps - round(fps, 6)) < 1e-9 * fps:
            fps = round(fps, 6)

    body_lines = [line for line in lines[motion_at + 3:] if line.strip()]
    if len(body_lines) != num_frames:
        raise ProjectFileError(path, f"BVH declares {num_frames} frames but holds "
                               f"{len(body_lines)} frame lines (truncated?)")
    rows = [line.split() for line in body_lines]
    for index, row in enumerate(rows):
        if len(row) != columns:
            raise ProjectFileError(path, f"BVH frame {index}: expected {columns} values (one per "
                                   f"channel), got {len(row)} (truncated?)")
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise ProjectFileError(path, f"BVH frame data is not all numbers: {exc}") from exc
    if not np.isfinite(values).all():
        raise ProjectFileError(path, "BVH frame data holds NaN or infinity")

    full_pose = np.zeros((num_frames, NUM_JOINTS, 3))
    for joint, cols, order in rotation_columns:
        full_pose[:, joint] = Rotation.from_euler(
            order, values[:, cols], degrees=True).as_rotvec()
    if position_columns:
        root_offset = offsets[names.index(JOINT_NAMES[0])]
        transl = (values[:, position_columns] - root_offset) / BVH_UNITS_PER_METRE
    else:
        transl = np.zeros((num_frames, 3))
    motion = Motion.zeros(num_frames, fps=fps)
    return motion.with_full_pose(full_pose.astype(np.float32)).replace(
        transl=transl.astype(np.float32))
