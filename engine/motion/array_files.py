"""Reading ``.npy`` arrays and ``.npz`` archives from files we did not write.

numpy's own ``np.load`` is safe with ``allow_pickle=False`` but not kind: a member of
random bytes is reported as "pickled data" with advice to load it unsafely, a header
declaring 10^13 floats is allocated before anything notices, and a ZIP member that
inflates to gigabytes is inflated in full. Every reader of user files (projects, motion
``.npz`` and ``.smpl`` files, the SMPL-X model folder, the lexicon's stored motions) goes
through here instead:

- the ``.npy`` header is parsed first, and only plain numeric arrays (bool, integer,
  float) and fixed-width strings are accepted; object and structured arrays are refused
  before any of their bytes are read, so nothing is ever unpickled;
- the bytes the header declares are checked against a size limit and, inside a ZIP,
  against the member's recorded size before they are allocated, so a lying header or a
  compression bomb costs nothing;
- every problem is a ``ProjectFileError`` naming the file and the member.
"""
from __future__ import annotations

import ast
import io
import math
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from engine.motion.errors import ProjectFileError

#: Largest single array we read (bytes). SMPL-X's biggest member (``posedirs``, float64,
#: 10475 x 3 x 486) is 122 MB, and an hour of motion at 60 fps is a few MB per field.
MAX_ARRAY_BYTES = 1 << 30
#: Largest sum of arrays read from one archive (bytes).
MAX_ARCHIVE_BYTES = 2 << 30
#: Most members an archive we read may have (SMPL-X files have about 20, motion files
#: about 15): a ZIP of a million empty members is refused before it is walked.
MAX_ARCHIVE_MEMBERS = 1000
#: dtype kinds a user file may hold: bool, signed and unsigned integers, floats, and
#: fixed-width strings (names of blendshapes, genders). Never "O" (pickled objects)
#: nor "V" (structured records).
ACCEPTED_KINDS = "biufUS"
_MAX_HEADER_BYTES = 10_000


def _human(count: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def read_npy(stream: BinaryIO, source: str | Path, member: str = "", *,
             max_bytes: int = MAX_ARRAY_BYTES, available: int | None = None,
             frames: int | None = None) -> np.ndarray:
    """One ``.npy`` array from ``stream``, checked before it is allocated.

    ``source``/``member`` name the file (and the archive member) in errors;
    ``available``: how many bytes the stream holds at most (a ZIP member's size), so a
    header declaring more is refused as truncated without reading on; ``frames``: the
    length the array's first dimension must have (the other fields of its motion).
    """
    where = f"member '{member}'" if member else "array"
    try:
        shape, fortran, dtype = _read_header(stream)
    except _Unreadable as problem:
        raise ProjectFileError(source, f"{where} is not a numeric array ({problem})") from None
    except STREAM_ERRORS:
        raise ProjectFileError(source, f"{where} cannot be read (the file is truncated or "
                                       "damaged)") from None
    if dtype.hasobject:
        raise ProjectFileError(source, f"{where} is not a numeric array (it holds pickled "
                                       "Python objects, which Sign Studio never loads)")
    if dtype.fields is not None or dtype.kind not in ACCEPTED_KINDS or dtype.itemsize == 0:
        kind = "structured records" if dtype.fields is not None else f"values of type {dtype}"
        raise ProjectFileError(source, f"{where} is not a numeric array (it holds {kind})")
    if len(shape) > MAX_DIMENSIONS or any(d >= MAX_DIMENSION for d in shape):
        raise ProjectFileError(source, f"{where} is not a numeric array (shape {shape})")
    if frames is not None and (not shape or shape[0] != frames):
        raise ProjectFileError(source, f"{where} declares shape {shape}; the motion's other "
                                       f"fields have {frames} frames")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > max_bytes:
        raise ProjectFileError(source, f"{where} declares shape {shape} of {dtype} "
                                       f"({_human(nbytes)}), more than the {_human(max_bytes)} "
                                       "an array may hold")
    if available is not None and nbytes > available:
        raise ProjectFileError(source, f"{where} declares shape {shape} of {dtype} "
                                       f"({_human(nbytes)}) but holds only {_human(available)}: "
                                       "the file is truncated or damaged")
    buffer = bytearray(nbytes)
    view = memoryview(buffer)
    read = 0
    try:
        # In chunks: a ZIP stream's readinto reads a whole request into a temporary
        # bytes object first, which for one big request would double the peak memory.
        while read < nbytes:
            more = stream.readinto(view[read:read + _CHUNK_BYTES])
            if not more:
                break
            read += more
    except STREAM_ERRORS:
        raise ProjectFileError(source, f"{where} cannot be read (the file is truncated or "
                                       "damaged)") from None
    if read != nbytes:
        raise ProjectFileError(source, f"{where} is truncated: {read} of {nbytes} bytes")
    array = np.frombuffer(buffer, dtype=dtype, count=count).reshape(
        shape, order="F" if fortran else "C")
    if dtype.byteorder not in ("=", "|") and dtype.byteorder != _NATIVE:
        array = array.astype(dtype.newbyteorder("="))  # a file from a big-endian machine
    return array


class _Unreadable(Exception):
    """Why an .npy header is not one we read (a sentence)."""


#: Errors a damaged stream raises while inflating or reading (zlib for bad deflate
#: data, RuntimeError for an encrypted member, NotImplementedError for an unknown
#: compression method).
STREAM_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError,
                  NotImplementedError)
_NATIVE = "<" if sys.byteorder == "little" else ">"
_MAGIC = b"\x93NUMPY"
_CHUNK_BYTES = 16 << 20
#: Shapes we read: at most this many dimensions, each under this length.
MAX_DIMENSIONS = 32
MAX_DIMENSION = 1 << 31


def _read_exact(stream: BinaryIO, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise _Unreadable("it ends inside its .npy header")
    return data


def _read_header(stream: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) from an .npy header, read by us: numpy's own reader
    takes in a header of any declared length (up to 4 GB) before checking its limit."""
    prefix = stream.read(8)
    if len(prefix) < 8 or prefix[:6] != _MAGIC:
        raise _Unreadable("no .npy signature")
    version = (prefix[6], prefix[7])
    if version == (1, 0):
        (length,) = struct.unpack("<H", _read_exact(stream, 2))
    elif version == (2, 0):
        (length,) = struct.unpack("<I", _read_exact(stream, 4))
    else:
        raise _Unreadable(f".npy format version {version[0]}.{version[1]}; expected 1.0 or 2.0")
    if length > _MAX_HEADER_BYTES:
        raise _Unreadable(f"its .npy header declares {length:,} bytes; a header has at most "
                          f"{_MAX_HEADER_BYTES:,}")
    text = _read_exact(stream, length).decode("latin1")
    try:
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise _Unreadable("its .npy header is not a Python literal") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise _Unreadable("its .npy header lacks descr, fortran_order or shape")
    shape, fortran, descr = header["shape"], header["fortran_order"], header["descr"]
    if not isinstance(shape, tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise _Unreadable(f"shape {shape!r:.60}")
    if not isinstance(fortran, bool):
        raise _Unreadable(f"fortran_order {fortran!r:.20}")
    if not isinstance(descr, str):
        raise _Unreadable("it holds structured records")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError, SyntaxError):
        raise _Unreadable(f"unknown type {descr!r:.40}") from None
    return shape, fortran, dtype


def read_bounded(path: str | Path, max_bytes: int, what: str) -> bytes:
    """The bytes of ``path``, refused (``ProjectFileError`` naming it) above ``max_bytes``
    or when it cannot be read; ``what`` names the kind of file ("a SiGML file")."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ProjectFileError(path, f"{size:,} bytes; {what} is read up to {max_bytes:,}")
        return path.read_bytes()
    except OSError as error:
        raise ProjectFileError(path, f"cannot be read ({error.strerror or error})") from None


def read_npz(file: str | Path | bytes | BinaryIO, source: str | Path | None = None, *,
             skip_unreadable: bool = False, max_bytes: int = MAX_ARRAY_BYTES,
             max_total_bytes: int = MAX_ARCHIVE_BYTES
             ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every member of an ``.npz`` archive as ``{name: array}`` (``.npy`` dropped), and
    the members left out as ``{name: why}``.

    A member that is not a plain numeric array raises ``ProjectFileError``, or with
    ``skip_unreadable`` is left out and named (the SMPL-X files carry pickled dicts
    nobody needs). A damaged archive always raises.
    """
    if source is None:
        source = file if isinstance(file, (str, Path)) else "<archive>"
    if isinstance(file, bytes):
        file = io.BytesIO(file)
    arrays: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    total = 0
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise ProjectFileError(source, f"the archive has {len(members):,} members; "
                                               f"a motion or model file has at most "
                                               f"{MAX_ARCHIVE_MEMBERS:,}")
            for info in members:
                if info.is_dir():
                    continue
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                try:
                    with archive.open(info) as stream:
                        array = read_npy(stream, source, name, available=info.file_size,
                                         max_bytes=min(max_bytes, max_total_bytes - total))
                except ProjectFileError as error:
                    if not skip_unreadable:
                        raise
                    skipped[name] = error.problem
                    continue
                total += array.nbytes
                arrays[name] = array
    except (zipfile.LargeZipFile, *STREAM_ERRORS) as error:
        detail = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise ProjectFileError(source, f"not a readable .npz archive (truncated or corrupt: "
                                       f"{detail})") from None
    return arrays, skipped


def read_npz_arrays(file: str | Path | bytes | BinaryIO,
                    source: str | Path | None = None) -> dict[str, np.ndarray]:
    """``read_npz`` for files where every member must be a plain numeric array."""
    return read_npz(file, source)[0]
