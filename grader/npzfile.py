"""Reading ``.npz`` files written by student code, on the grader's side, without trusting them.

``np.load`` believes the shape in each array's header and allocates that much memory before
reading a byte of data: a crafted file of a few hundred bytes can claim terabytes. Here every
member's header is read first and the total is checked against a limit, pickles are refused,
and only then are the arrays read.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np

MAX_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 10_000


class NpzError(ValueError):
    """The bytes are not an .npz file the grader accepts; the message says why."""


def _header(fh):
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(fh)
    raise NpzError(f"unsupported .npy version {version}")


def load_npz(data: bytes, max_bytes: int = MAX_BYTES, max_members: int = MAX_MEMBERS) -> dict:
    """{name: array} of the .npz file ``data`` (bytes). Raises NpzError when the file is
    not a zip of .npy arrays, holds object arrays, or its arrays would take more than
    ``max_bytes`` together."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise NpzError(f"not an .npz (zip) file: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_members:
            raise NpzError(
                f"the file holds {len(infos)} members, more than the grader reads ({max_members})"
            )
        total = 0
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise NpzError(f"member {info.filename[:80]!r} is not a .npy array")
            try:
                with archive.open(info) as fh:
                    shape, _, dtype = _header(fh)
            except NpzError:
                raise
            except Exception as exc:  # malformed headers raise many kinds of errors
                raise NpzError(
                    f"member {info.filename[:80]!r} has no valid .npy header ({exc})"
                ) from None
            if dtype.hasobject:
                raise NpzError(
                    f"member {info.filename[:80]!r} holds Python objects (a pickle): not accepted"
                )
            total += math.prod(shape) * dtype.itemsize
            if total > max_bytes:
                raise NpzError(f"the arrays would take more than {max_bytes >> 20} MiB: not read")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
        except Exception as exc:
            raise NpzError(f"the arrays cannot be read: {exc}") from None
