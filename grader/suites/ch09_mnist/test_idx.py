"""Chapter 09: reading IDX files, from bytes (``parse_idx``) and from disk (``read_idx``).

``parse_idx`` gets the bytes of small files built here, as a uint8 array; ``read_idx``
gets files the grader writes into your worker's scratch directory: the two MNIST files
the course ships (gzipped) and a small file, plain and gzipped.
"""

import gzip

from data.loaders import HERE as DATA_DIR
from data.loaders import MNIST_IMAGES, load_mnist
from grader.api import StudentError, check_array, check_true, fail, np, points, pytest, reference
from grader.suites.ch09_mnist.files import idx_bytes, scratch_path

ref = reference("ch09_mnist")

HEADER_HINT = (
    "An IDX header is big-endian (most significant byte first): int.from_bytes(data[0:4], 'big') "
    "is the magic number, 2049 for labels (8-byte header: magic, count) and 2051 for images "
    "(16-byte header: magic, count, rows, cols)."
)


def _u8(data):
    return np.frombuffer(data, dtype=np.uint8).copy()


def _offset_bugs(data, header, shape):
    """Known wrong reads: the values taken from another byte offset than the header's end."""
    size = int(np.prod(shape))
    bugs = []
    for start in range(0, len(data) - size + 1):
        if start != header and start % 4 == 0:
            values = _u8(data[start : start + size]).reshape(shape)
            bugs.append(
                (
                    f"the values are read from byte {start} on, but they start right after the "
                    f"{header}-byte header",
                    values,
                )
            )
    return bugs


def _parse_valid(student, data, call):
    """parse_idx on a valid file; a ValueError here gets the header hint."""
    try:
        return student.parse_idx(_u8(data))
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            fail(
                f"{call} raised {exc.summary} on a valid IDX file (check the byte order: big-endian)",
                f"header bytes: {data[:16].hex(' ')}\n{HEADER_HINT}\n\nTraceback (your code only):\n{exc.details}",
            )
        raise


def _check_uint8(got, call):
    kind = np.asarray(got).dtype
    check_true(
        kind == np.uint8,
        f"{call} returned dtype {kind}, expected uint8",
        "IDX values are unsigned bytes: np.frombuffer(..., dtype=np.uint8).",
    )


@points(1)
@pytest.mark.parametrize("count", [6, 1, 0])
def test_parse_idx_labels_match_reference(student, oracle, count):
    labels = oracle.random("labels", lambda rng: rng.integers(0, 10, size=count).astype(np.uint8))
    data = idx_bytes(labels)
    want = oracle.compute("want", lambda: ref.parse_idx(data))
    call = f"parse_idx(<labels file, count {count}>)"
    got = _parse_valid(student, data, call)
    check_array(
        got, want, call=call, inputs={"data": _u8(data)}, known_bugs=_offset_bugs(data, 8, (count,))
    )
    _check_uint8(got, call)


@points(2)
@pytest.mark.parametrize("shape", [(3, 28, 28), (2, 5, 3), (1, 1, 1)])
def test_parse_idx_images_match_reference(student, oracle, shape):
    images = oracle.random("images", lambda rng: rng.integers(0, 256, size=shape).astype(np.uint8))
    data = idx_bytes(images)
    want = oracle.compute("want", lambda: ref.parse_idx(data))
    call = f"parse_idx(<images file {shape[0]} x {shape[1]} x {shape[2]}>)"
    got = _parse_valid(student, data, call)
    bugs = _offset_bugs(data, 16, shape)
    if shape[1] != shape[2]:
        bugs.append(
            (
                "rows and columns are swapped: the header gives count, then rows, then columns",
                want.reshape(shape[0], shape[2], shape[1]),
            )
        )
    check_array(got, want, call=call, inputs={"data": _u8(data)}, known_bugs=bugs)
    _check_uint8(got, call)


def _expect_value_error(student, data, call, why):
    try:
        got = student.parse_idx(_u8(data))
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        if exc.kind == "not_implemented":
            raise
        fail(
            f"{call} raised {exc.summary}, expected a ValueError ({why})",
            "Check the file before using it and raise ValueError with a message that says what is wrong."
            f"\n\nTraceback (your code only):\n{exc.details}",
        )
    shape = getattr(np.asarray(got), "shape", None) if got is not None else None
    fail(
        f"{call} returned {'an array of shape ' + str(shape) if shape is not None else repr(got)} instead of "
        f"raising ValueError ({why})",
        f"header bytes: {data[:16].hex(' ')}\n{HEADER_HINT}",
    )


BAD_MAGIC = {
    "little_endian_images": (2051, True, "the header is written little-endian: magic 0x03080000"),
    "magic_2050": (2050, False, "2050 is neither 2049 (labels) nor 2051 (images)"),
    "float_idx": (
        0x0D03,
        False,
        "magic 0x00000D03 is an IDX file of floats, not of unsigned bytes",
    ),
}


@points(1)
@pytest.mark.parametrize("case", sorted(BAD_MAGIC))
def test_parse_idx_bad_magic_raises_value_error(student, oracle, case):
    magic, little, why = BAD_MAGIC[case]
    images = oracle.random(
        "images", lambda rng: rng.integers(0, 256, size=(2, 4, 4)).astype(np.uint8)
    )
    data = idx_bytes(images, magic=magic, little_endian=little)
    _expect_value_error(
        student, data, f"parse_idx(<file with magic bytes {data[:4].hex(' ')}>)", why
    )


SIZE_CASES = {
    # name: (build from labels L (5,) and images I (2, 3, 3), why)
    "images_truncated": (lambda L, I: idx_bytes(I)[:-1], "the last pixel is missing"),
    "images_padded": (lambda L, I: idx_bytes(I) + b"\x00", "one byte too many after the pixels"),
    "labels_truncated": (lambda L, I: idx_bytes(L)[:-2], "two labels are missing"),
    "labels_header_only_half": (
        lambda L, I: idx_bytes(L)[:6],
        "the header itself is cut after 6 bytes",
    ),
    "too_short_for_magic": (lambda L, I: b"\x00\x00", "2 bytes: not even a magic number"),
}


@points(1)
@pytest.mark.parametrize("case", sorted(SIZE_CASES))
def test_parse_idx_size_mismatch_raises_value_error(student, oracle, case):
    build, why = SIZE_CASES[case]
    L, I = oracle.random(
        "data",
        lambda rng: (
            rng.integers(0, 10, size=5).astype(np.uint8),
            rng.integers(0, 256, size=(2, 3, 3)).astype(np.uint8),
        ),
    )
    data = build(L, I)
    _expect_value_error(
        student, data, f"parse_idx(<{case.replace('_', ' ')} file, {len(data)} bytes>)", why
    )


# ------------------------------------------------------------------------ read_idx


def _read_valid(student, path, call):
    try:
        return student.read_idx(path)
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            fail(
                f"{call} raised {exc.summary} on a valid IDX file",
                f"{HEADER_HINT}\nA name ending in .gz is gzipped: open it with gzip.open(path, 'rb').\n\n"
                f"Traceback (your code only):\n{exc.details}",
            )
        raise


@points(2)
@pytest.mark.parametrize(
    "name", ["mnist-t10k-labels-idx1-ubyte.gz", "mnist-t10k-images-idx3-ubyte.gz"]
)
def test_read_idx_shipped_mnist_file_matches_loader(student, name):
    images, labels = load_mnist()
    want = images if name == MNIST_IMAGES.name else labels
    call = f'read_idx("{name}")'
    got = _read_valid(student, scratch_path(student, name, (DATA_DIR / name).read_bytes()), call)
    if not (isinstance(got, np.ndarray) and got.shape == want.shape and np.array_equal(got, want)):
        check_array(got, want, call=call, what="array")  # explains the difference
    _check_uint8(got, call)


@points(2)
def test_read_idx_plain_and_gzipped_files(student, oracle):
    images = oracle.random(
        "images", lambda rng: rng.integers(0, 256, size=(4, 6, 5)).astype(np.uint8)
    )
    data = idx_bytes(images)
    want = oracle.compute("want", lambda: ref.parse_idx(data))
    for name, content in (("small-images.idx", data), ("small-images.idx.gz", gzip.compress(data))):
        call = f'read_idx("{name}")'
        got = _read_valid(student, scratch_path(student, name, content), call)
        check_array(
            got, want, call=call, what="array", known_bugs=_offset_bugs(data, 16, images.shape)
        )
        _check_uint8(got, call)
