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


@given(hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)))
def test_arrays_round_trip_exactly(arr):
    back = decode(json.loads(json.dumps(encode(arr))))
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f")


def test_nested_values_round_trip():
    value = {"a": [1, 2.5, None, True, "x"], "b": (np.arange(3), {"c": float("nan")}), "d": float("-inf")}
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert back["a"] == value["a"] and isinstance(back["b"], tuple)
    assert np.array_equal(back["b"][0], np.arange(3)) and np.isnan(back["b"][1]["c"]) and back["d"] == -np.inf


@pytest.mark.parametrize("payload", [
    {"$nd": {"dtype": "object", "shape": [1], "b64": ""}},
    {"$nd": {"dtype": "float64", "shape": [2], "b64": base64.b64encode(b"123").decode()}},
    {"$nd": {"dtype": "float64", "shape": [-1], "b64": ""}},
    {"$nd": {"dtype": "float64", "shape": [10**6, 10**6], "b64": ""}},
    {"$ref": 1},
    {"__reduce__": "os.system"},
    {"$float": "__import__('os')"},
])
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
        path = w.request({"op": "write_file", "name": "sub/a.bin", "data": np.arange(5, dtype=np.uint8)})
        assert path.startswith(w.scratch)
        back = w.request({"op": "read_file", "name": "sub/a.bin"})
        assert back.tolist() == [0, 1, 2, 3, 4]
        with pytest.raises(StudentError, match="inside the scratch"):
            w.request({"op": "write_file", "name": "../escape.bin", "data": np.zeros(1, np.uint8)})
    finally:
        w.close()
