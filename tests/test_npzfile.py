"""The grader reads .npz files written by student code without trusting their headers."""

import io
import resource
import zipfile

import numpy as np
import pytest

from grader.npzfile import NpzError, load_npz


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _crafted(shape, dtype="<f8"):
    """A valid-looking .npz whose one array claims ``shape`` but holds 8 bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("W.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 8)
    return buf.getvalue()


def test_plain_arrays_round_trip():
    got = load_npz(_npz(W=np.arange(6.0).reshape(2, 3), b=np.zeros(3)))
    assert set(got) == {"W", "b"} and np.array_equal(got["W"], np.arange(6.0).reshape(2, 3))


def test_a_header_claiming_terabytes_is_refused_without_allocating():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(NpzError, match="MiB"):
        load_npz(_crafted((10**12,)))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_object_arrays_are_refused_as_pickles():
    with pytest.raises(NpzError, match="pickle"):
        load_npz(_npz(x=np.array([{"a": 1}], dtype=object)))


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_garbage_is_a_clear_error(data):
    with pytest.raises(NpzError, match="not an .npz|no valid"):
        load_npz(data)


def test_too_many_members_are_refused():
    with pytest.raises(NpzError, match="members"):
        load_npz(_npz(**{f"a{i}": np.zeros(1) for i in range(20)}), max_members=10)
