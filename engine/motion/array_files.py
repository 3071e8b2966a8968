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

import io
import math
import zipfile
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
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                stream, max_header_size=_MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                stream, max_header_size=_MAX_HEADER_BYTES)
        else:
            raise ValueError(f"npy format version {version}")
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise ProjectFileError(source, f"{where} is not a numeric array (its .npy header "
                                       f"cannot be read: {error})") from None
    if dtype.hasobject or dtype.kind not in ACCEPTED_KINDS or dtype.fields is not None:
        what = "pickled Python objects, which Sign Studio never loads" if dtype.hasobject else \
            f"values of type {dtype}"
        raise ProjectFileError(source, f"{where} is not a numeric array (it holds {what})")
    if any(not isinstance(d, int) or d < 0 for d in shape):
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
    try:
        read = stream.readinto(buffer) if nbytes else 0
        while 0 < read < nbytes:  # streams may return short reads
            more = stream.readinto(memoryview(buffer)[read:])
            if not more:
                break
            read += more
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise ProjectFileError(source, f"{where} cannot be read (truncated or damaged: "
                                       f"{error})") from None
    if read != nbytes:
        raise ProjectFileError(source, f"{where} is truncated: {read} of {nbytes} bytes")
    array = np.frombuffer(buffer, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")


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
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ProjectFileError(source, f"not a readable .npz archive (truncated or corrupt: "
                                       f"{error})") from None
    except NotImplementedError as error:  # a compression method zipfile does not have
        raise ProjectFileError(source, f"not a readable .npz archive ({error})") from None
    return arrays, skipped


def read_npz_arrays(file: str | Path | bytes | BinaryIO,
                    source: str | Path | None = None) -> dict[str, np.ndarray]:
    """``read_npz`` for files where every member must be a plain numeric array."""
    return read_npz(file, source)[0]
