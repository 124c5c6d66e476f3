"""Values crossing between grader and worker: exact round trips, strict decoding, no pickle."""

import base64
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.worker import CodecError, decode, encode

DTYPES = ["float64", "float32", "int64", "int32", "uint8", "bool"]


@given(
    hnp.arrays(
        st.sampled_from(DTYPES), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)
    )
)
def test_arrays_round_trip_exactly(arr):
    back = decode(json.loads(json.dumps(encode(arr))))
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f")


def test_nested_values_round_trip():
    value = {
        "a": [1, 2.5, None, True, "x"],
        "b": (np.arange(3), {"c": float("nan")}),
        "d": float("-inf"),
    }
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert back["a"] == value["a"] and isinstance(back["b"], tuple)
    assert (
        np.array_equal(back["b"][0], np.arange(3))
        and np.isnan(back["b"][1]["c"])
        and back["d"] == -np.inf
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"$nd": {"dtype": "object", "shape": [1], "b64": ""}},
        {"$nd": {"dtype": "float64", "shape": [2], "b64": base64.b64encode(b"123").decode()}},
        {"$nd": {"dtype": "float64", "shape": [-1], "b64": ""}},
        {"$nd": {"dtype": "float64", "shape": [10**6, 10**6], "b64": ""}},
        {"$ref": 1},
        {"__reduce__": "os.system"},
        {"$float": "__import__('os')"},
    ],
)
def test_malformed_or_dangerous_values_are_rejected(payload):
    with pytest.raises(CodecError):
        decode(payload)


def test_object_arrays_and_unknown_objects_do_not_encode_on_the_grader_side():
    with pytest.raises(CodecError):
        encode(np.array([object()]))
    with pytest.raises(CodecError):
        encode(object())


def test_scratch_files_round_trip_and_stay_inside_the_scratch_directory():
    from grader.sandbox import StudentError, WorkerClient
    from tests.helpers import SOLUTIONS

    w = WorkerClient(SOLUTIONS)
    try:
        path = w.request(
            {"op": "write_file", "name": "sub/a.bin", "data": np.arange(5, dtype=np.uint8)}
        )
        assert path.startswith(w.scratch)
        back = w.request({"op": "read_file", "name": "sub/a.bin"})
        assert back.tolist() == [0, 1, 2, 3, 4]
        with pytest.raises(StudentError, match="inside the scratch"):
            w.request({"op": "write_file", "name": "../escape.bin", "data": np.zeros(1, np.uint8)})
    finally:
        w.close()


# ------------------------------------------------------------------- binary frames


def test_frames_carry_arrays_as_binary_and_round_trip():
    from grader.worker import frame, parse_frame

    value = {
        "a": np.arange(12.0).reshape(3, 4),
        "b": [np.int8(3), (np.zeros((0, 2)), "text")],
        "c": 1.5,
    }
    data = frame({"id": 7, "ok": value})
    assert b"b64" not in data  # arrays travel as raw bytes, not base64 text
    message, buffers, used = parse_frame(data + b"next", 1 << 20)
    assert used == len(data) and message["id"] == 7
    back = decode(message["ok"], buffers=buffers)
    assert (
        np.array_equal(back["a"], value["a"])
        and back["b"][0] == 3
        and back["b"][1][0].shape == (0, 2)
    )
    assert back["c"] == 1.5


def test_a_partial_frame_asks_for_more_and_an_oversized_one_is_refused():
    from grader.worker import frame, parse_frame

    data = frame({"id": 1, "ok": np.ones(1000)})
    for cut in (0, 5, 13, 40, len(data) - 1):
        assert parse_frame(data[:cut], 1 << 20) is None
    with pytest.raises(CodecError):
        parse_frame(data, 1000)  # larger than the limit: refused before it is read in full
    forged = bytearray(data)
    forged[0:8] = (1 << 62).to_bytes(8, "little")  # a header claiming an enormous JSON part
    with pytest.raises(CodecError):
        parse_frame(bytes(forged), 1 << 20)


def test_a_buffer_index_out_of_range_is_rejected():
    payload = {"$nd": {"dtype": "float64", "shape": [1], "buf": 3}}
    with pytest.raises(CodecError):
        decode(payload, buffers=[b"\0" * 8])
    with pytest.raises(CodecError):
        decode(payload)  # a buffer reference where no frame carries buffers
