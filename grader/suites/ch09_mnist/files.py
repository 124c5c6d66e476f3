"""Chapter 09 suite helpers: files for the code under test, made by the grader.

``read_idx`` and ``read_png_digit`` take a path. The grader writes the file into the
scratch directory of the worker that runs the submission (its working directory, fresh
for every worker) and passes the file's absolute path; nothing of the repository is
readable by name from the submission's side. PNG files are encoded here with zlib (no
imaging library), so that the test controls every byte: colour type, bit depth, alpha.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from grader.api import write_scratch_file


def scratch_path(student, name, data: bytes) -> str:
    """Write ``data`` as ``name`` in the submission worker's scratch directory; return the
    absolute path to pass to student code. Call it right before that call: a worker that
    is restarted (after a crash or a timeout) gets a new, empty scratch directory."""
    return write_scratch_file(student, name, data)


def idx_bytes(array, magic=None, little_endian=False) -> bytes:
    """The bytes of an IDX file holding a uint8 array (1-d labels or 3-d images)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = {1: 2049, 3: 2051}[array.ndim]
    order = "<" if little_endian else ">"
    return struct.pack(order + "I" * (1 + array.ndim), magic, *array.shape) + array.tobytes()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


PNG_COLOUR_TYPES = {
    1: 0,
    2: 4,
    3: 2,
    4: 6,
}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)


def png_bytes(pixels) -> bytes:
    """An 8-bit PNG of a uint8 array (H, W) gray, or (H, W, C) with C = 2 (gray + alpha),
    3 (RGB) or 4 (RGBA)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOUR_TYPES[channels], 0, 0, 0)
    rows = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))  # filter type 0 per row
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def as_read(pixels):
    """The float array matplotlib's imread gives for ``png_bytes(pixels)``: values / 255
    in float32, (H, W), (H, W, 3) or (H, W, 4) (gray + alpha comes back as RGBA)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 2:
        gray, alpha = pixels[:, :, 0], pixels[:, :, 1]
        pixels = np.stack([gray, gray, gray, alpha], axis=2)
    return np.divide(pixels, 255, dtype=np.float32)
