"""Chapter 09: the fixed-seed split of the sample indices, and preprocessing."""

from hypothesis import given
from hypothesis import strategies as st

from grader.api import (
    GradeFailure,
    Rng,
    StudentError,
    check_array,
    check_true,
    fail,
    keep,
    np,
    points,
    pytest,
    reference,
)
from grader.suites.common import again_note, check_unchanged

ref = reference("ch09_mnist")


def _parts(got, call):
    """The three index arrays split_indices returned, or a failure saying what came back."""
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(
            f"{call} must return three index arrays (train, val, test), got {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        )
    out = []
    for name, part in zip(("train", "val", "test"), got):
        arr = np.asarray(part)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            fail(
                f"{call}: the {name} part has shape {arr.shape} and dtype {arr.dtype}; each part is a 1-d "
                "integer array of sample indices"
            )
        out.append(arr.astype(np.int64))
    return out


def _split_variants(n, sizes, seed):
    """Known wrong splits, as (description, (train, val, test))."""
    perm = np.random.default_rng(seed).permutation(n)
    a, b, c = sizes
    return [
        (
            "validation and test are swapped: val = perm[n_train:n_train + n_val], then test after it",
            (perm[:a], perm[a + c : a + c + b], perm[a : a + c]),
        ),
        (
            "the parts are cut from the end of the permutation: train = perm[:n_train] comes first",
            (perm[n - a :], perm[n - a - b : n - a], perm[n - a - b - c : n - a - b]),
        ),
        (
            "the parts overlap: validation and test both start right after the training part",
            (perm[:a], perm[a : a + b], perm[a : a + c]),
        ),
    ]


@points(1)
@pytest.mark.parametrize(
    "n,sizes", [(10000, None), (20, (10, 5, 5)), (12, (6, 2, 3)), (5, (0, 2, 3))]
)
def test_split_indices_matches_reference(student, oracle, n, sizes):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    use = (8000, 1000, 1000) if sizes is None else sizes
    # int32 keeps the recorded fixture small; the values are what count.
    want = oracle.compute(
        "want",
        lambda: tuple(
            np.asarray(p, dtype=np.int32)
            for p in ref.split_indices(n, np.random.default_rng(seed), use)
        ),
    )
    bugs = _split_variants(n, use, seed)  # numpy only, from the recorded seed
    if sizes is None:
        call = f"split_indices({n}, rng=default_rng({seed}))"
        got = student.split_indices(n, Rng(seed))
    else:
        call = f"split_indices({n}, rng=default_rng({seed}), sizes={sizes})"
        got = student.split_indices(n, Rng(seed), sizes=sizes)
    parts = _parts(got, call)
    for k, name in enumerate(("train", "val", "test")):
        if not (parts[k].shape == np.shape(want[k]) and np.array_equal(parts[k], want[k])):
            for desc, bad in bugs:
                if all(p.shape == np.shape(q) and np.array_equal(p, q) for p, q in zip(parts, bad)):
                    fail(f"{call}: the {name} part is wrong ({desc})")
        check_array(parts[k], want[k], call=call, what=f"{name} part", rtol=0, atol=0)


def _check_split(parts, sizes, n, call):
    """Three parts of the requested sizes, indices in [0, n), no index used twice."""
    for part, size, name in zip(parts, sizes, ("train", "val", "test")):
        check_true(
            len(part) == size, f"{call}: the {name} part has {len(part)} indices, expected {size}"
        )
    every = np.concatenate(parts)
    check_true(np.all((every >= 0) & (every < n)), f"{call}: an index is outside [0, {n})")
    if len(np.unique(every)) != len(every):
        seen = [set(p.tolist()) for p in parts]
        pairs = [
            f"{x} and {y}"
            for (i, x), (j, y) in [
                ((0, "train"), (1, "val")),
                ((0, "train"), (2, "test")),
                ((1, "val"), (2, "test")),
            ]
            if seen[i] & seen[j]
        ]
        where = f"the {pairs[0]} parts overlap" if pairs else "a part repeats an index"
        fail(
            f"{call}: {where}: an image must be in exactly one part",
            "Cut one permutation into consecutive slices: perm[:n_train], perm[n_train:n_train + n_val], "
            "perm[n_train + n_val:n_train + n_val + n_test].",
        )


@points(2)
@given(st.integers(1, 40), st.data())
def test_split_indices_parts_are_disjoint(student, n, data):
    """An ordinary split (20 indices into 10, 5 and 5), then whatever n and sizes: three
    parts of the requested sizes, indices in [0, n), no index used twice, within or across
    parts."""
    fixed = "split_indices(20, rng, sizes=(10, 5, 5))"
    _check_split(
        _parts(student.split_indices(20, Rng(0), sizes=(10, 5, 5)), fixed), (10, 5, 5), 20, fixed
    )
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(0, n - a))
    c = data.draw(st.integers(0, n - a - b))
    seed = data.draw(st.integers(0, 2**31 - 1))
    call = f"split_indices({n}, rng, sizes=({a}, {b}, {c}))"
    parts = _parts(student.split_indices(n, Rng(seed), sizes=(a, b, c)), call)
    _check_split(parts, (a, b, c), n, call)


@points(1)
def test_split_indices_too_large_raises_value_error(student):
    call = "split_indices(10, rng, sizes=(8, 2, 1))"
    try:
        got = student.split_indices(10, Rng(0), sizes=(8, 2, 1))
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        if exc.kind == "not_implemented":
            raise
        fail(f"{call} raised {exc.summary}, expected a ValueError", exc.details)
    fail(
        f"{call} returned instead of raising ValueError: 11 indices cannot come from 10 samples",
        f"got parts of lengths {[len(np.asarray(p)) for p in got] if isinstance(got, (list, tuple)) else got}",
    )


@points(1)
def test_split_indices_too_large_draws_nothing(student, oracle):
    """The docstring: sizes that need more samples than there are raise ValueError before
    anything is drawn: the Generator passed in is where it was, its next draw the same."""
    seed = 4
    fresh = oracle.compute("fresh", lambda: np.random.default_rng(seed).permutation(10))
    rng = keep(student, Rng(seed))
    call = "split_indices(10, rng, sizes=(8, 2, 1))"
    try:
        got = student.split_indices(10, rng, sizes=(8, 2, 1))
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        if not exc.summary.startswith("ValueError"):
            fail(f"{call} raised {exc.summary}, expected a ValueError", exc.details)
    else:
        fail(f"{call} returned {type(got).__name__} instead of raising ValueError")
    check_array(
        rng.permutation(10),
        fresh,
        call=f"rng.permutation(10) after {call}",
        what="next draw of the Generator (it must not have been used: check the sizes "
        "before drawing the permutation)",
    )


# ------------------------------------------------------------------------- preprocess


def _preprocess_bugs(images):
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return [
        ("the pixels are not scaled: map 0-255 onto [-1, 1] with (pixel - 127.5) / 127.5", x),
        (
            "the values are in [0, 1] (pixel / 255); the course scales to [-1, 1]: (pixel - 127.5) / 127.5",
            x / 255,
        ),
        ("the values are not centred: subtract 127.5 before dividing by 127.5", x / 127.5),
        (
            "the uint8 pixels wrapped around: convert to float64 before subtracting",
            (np.asarray(images, dtype=np.uint8).reshape(len(images), -1) - np.uint8(127)).astype(
                np.float64
            )
            / 127.5,
        ),
    ]


@points(1)
@pytest.mark.parametrize("shape", [(4, 28, 28), (3, 784), (1, 28, 28)])
def test_preprocess_matches_reference(student, oracle, shape):
    images = oracle.random("images", lambda rng: rng.integers(0, 256, size=shape).astype(np.uint8))
    want = oracle.compute("want", lambda: ref.preprocess(images))
    bugs = _preprocess_bugs(images)  # numpy only, from the recorded images
    call = "preprocess(images)"
    got = student.preprocess(images)
    check_array(
        got, want, call=call, inputs={"images": images}, known_bugs=bugs, rtol=1e-12, atol=1e-12
    )
    dtype = np.asarray(got).dtype
    check_true(dtype == np.float64, f"{call} returned dtype {dtype}, expected float64")


@points(1)
def test_preprocess_maps_black_to_minus_one_and_white_to_one(student):
    images = np.array([[[0, 255], [127, 128]]], dtype=np.uint8)
    call = "preprocess([[[0, 255], [127, 128]]] as uint8)"
    got = check_array(
        student.preprocess(images),
        [[-1.0, 1.0, -0.5 / 127.5, 0.5 / 127.5]],
        call=call,
        rtol=1e-12,
        atol=1e-12,
        known_bugs=[tuple(b) for b in _preprocess_bugs(images)],
    )
    check_true(
        np.asarray(got).dtype == np.float64,
        f"{call} returned dtype {np.asarray(got).dtype}, expected float64",
    )


@points(1)
def test_preprocess_leaves_images_unchanged(student, oracle):
    """The right output first (leaving images alone earns nothing on its own), then images as
    they were (still uint8), and a second call on the same array must give the same again."""
    images = np.random.default_rng(3).integers(0, 256, size=(2, 28, 28)).astype(np.uint8)
    want = oracle.compute("want", lambda: ref.preprocess(images))
    call = "preprocess(images of shape (2, 28, 28), dtype uint8)"
    advice = (
        "Work on a float copy: np.asarray(images, dtype=np.float64) or images.astype(np.float64)."
    )
    kept = keep(student, images)
    got = student.preprocess(kept)
    try:
        check_array(got, want, call=call)
    except GradeFailure:
        # Arithmetic on the caller's uint8 array both wraps around and changes it: say so.
        check_unchanged(kept, images, call=call, name="images", advice=advice)
        raise
    check_unchanged(kept, images, call=call, name="images", advice=advice)
    check_array(student.preprocess(kept), want, call=again_note(call))
