"""The pretrained network shipped in data/pretrained/ is what its documented recipe makes.

``python -m reference.ch14_transfer.pretrain`` trains LeNet-5 on the digits 0-4 with fixed
seeds and writes the two files. The fingerprints below are what that recipe printed (sha256
over each file's array names, dtypes, shapes and bytes; the zip archive's own bytes hold
timestamps, so they are not hashed). Regenerating the files means updating them here, in
the same commit.
"""

import numpy as np
import pytest

from reference.ch14_transfer import (
    CHECK_FILE,
    ENCODER_CHECK_FILE,
    ENCODER_FILE,
    MODEL_FILE,
    PRETRAINED_DIR,
    fingerprint,
    read_npz,
)

FINGERPRINTS = {
    MODEL_FILE: "89f982fcd61638f56dbbef2abd6f64ea999f267a6dfe8fc6d70bae854d8e9e50",
    CHECK_FILE: "c5398d3748f5e5ff33d587f3ae01acbb421fb593528aaa6bb2ac563a89e3a099",
    ENCODER_FILE: "a821157cb4d7b4809ba84fa64dd1dc2d7cf66eed4848904362542d3abb2eae89",
    ENCODER_CHECK_FILE: "e36540c7ca2cb978a69c4fb27ac0d118d01ae719fda67e3f13eeb087a6a22f05",
}


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_shipped_file_matches_the_recorded_fingerprint(name):
    arrays = read_npz(PRETRAINED_DIR / name)
    assert fingerprint(arrays) == FINGERPRINTS[name], (
        f"data/pretrained/{name} is not the file the recipe made: regenerate it with "
        "`python -m reference.ch14_transfer.pretrain` (and update FINGERPRINTS from its output)"
    )


def test_shipped_files_are_small_and_need_no_pickle():
    for name in FINGERPRINTS:
        path = PRETRAINED_DIR / name
        assert path.stat().st_size < 1_000_000, f"{name} is {path.stat().st_size} bytes"
        for value in read_npz(path).values():  # allow_pickle=False: an object array raises
            assert value.dtype.kind in "fiu", value.dtype


@pytest.mark.parametrize(
    "model_file,check_file", [(MODEL_FILE, CHECK_FILE), (ENCODER_FILE, ENCODER_CHECK_FILE)]
)
def test_course_model_reproduces_the_check_outputs(model_file, check_file):
    """Chapter 08's Model.load (the solutions) rebuilds each network from its file alone and
    gives the shipped outputs on the shipped inputs."""
    from solutions.ch14_transfer import Model

    model = Model.load(PRETRAINED_DIR / model_file)
    check = read_npz(PRETRAINED_DIR / check_file)
    np.testing.assert_allclose(model.predict(check["inputs"]), check["outputs"], rtol=0, atol=1e-10)


@pytest.mark.slow
def test_recipe_reproduces_the_shipped_files():
    """Runs both recipes (about two minutes of CPU): the same arrays as the shipped files, to
    float rounding (another BLAS may round the last bits of a training run differently)."""
    from reference.ch14_transfer.pretrain import build, same_arrays

    files, scores = build()
    assert scores["lenet"] > 0.97 and scores["encoder"] > 0.65
    for name, arrays in files.items():
        assert same_arrays(read_npz(PRETRAINED_DIR / name), arrays), (
            f"{name} differs from the recipe's"
        )
