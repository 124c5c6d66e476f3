"""Reading MNIST's IDX files: a big-endian header, then the raw bytes.

An IDX file of unsigned bytes, as MNIST ships them, is

    bytes 0-3    the magic number, a big-endian 32-bit integer:
                 2049 (0x00000801) for labels, 2051 (0x00000803) for images
    bytes 4-7    the number of items, big-endian 32-bit
    (images only) bytes 8-11 the number of rows, bytes 12-15 the number of columns
    then         every value, one unsigned byte (uint8) each, item after item
                 (an image row after row)

so a labels file has an 8-byte header and an images file a 16-byte one. The distributed
files are gzipped (``.gz``); ``read_idx`` decompresses them and hands the bytes to
``parse_idx``, which does the work.
"""

import gzip

import numpy as np

# The two magic numbers of MNIST's files, and how many dimensions each announces.
IDX_LABELS = 2049
IDX_IMAGES = 2051
DIMENSIONS = {IDX_LABELS: 1, IDX_IMAGES: 3}


def parse_idx(data):
    """The array stored in the bytes of an IDX file.

    data:    the whole file, uncompressed: ``bytes``, or a 1-d uint8 numpy array of them
             (``bytes(data)`` turns either into ``bytes``)
    returns: uint8 array of shape (count,) for labels (magic 2049) or
             (count, rows, cols) for images (magic 2051), with the header's sizes
    raises:  ValueError if the data is shorter than its header, if the magic number is
             neither 2049 nor 2051, or if the number of bytes after the header is not
             exactly the product of the sizes (a truncated or padded file)
    """
    ### BEGIN SOLUTION
    raw = bytes(np.asarray(data, dtype=np.uint8)) if not isinstance(data, bytes) else data
    if len(raw) < 4:
        raise ValueError(f"an IDX file starts with a 4-byte magic number; got only {len(raw)} bytes")
    magic = int.from_bytes(raw[0:4], "big")
    if magic not in DIMENSIONS:
        raise ValueError(f"bad magic number {magic} (bytes {raw[0:4].hex(' ')}): expected "
                         f"{IDX_LABELS} (labels) or {IDX_IMAGES} (images)")
    ndim = DIMENSIONS[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"truncated header: magic {magic} needs {header} bytes, the data has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise ValueError(f"the header announces {shape} = {size} values, but {len(raw) - header} bytes "
                         "follow it (truncated or padded file)")
    return np.frombuffer(raw, dtype=np.uint8, count=size, offset=header).reshape(shape).copy()
    ### END SOLUTION


def read_idx(path):
    """The array stored in an IDX file on disk.

    path:    str or pathlib.Path; a name ending in ``.gz`` is read through ``gzip``
             (decompressed), any other name is read as plain bytes
    returns: ``parse_idx`` of the file's bytes: uint8 (count,) or (count, rows, cols)
    raises:  ValueError as ``parse_idx`` does (and OSError if the file cannot be read)
    """
    ### BEGIN SOLUTION
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        return parse_idx(fh.read())
    ### END SOLUTION
