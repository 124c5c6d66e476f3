"""Where expected values and test inputs come from.

In **hidden** mode (the instructor's repository, reference present) a test's random
inputs are drawn from a Generator seeded by (seed, test, key), so a different seed
(per student, from the course secret) gives fresh inputs, and expected values are
computed live by the reference. In **public** mode (the student release, no
reference) the same calls return the values the reference recorded in the fixture
files; ``python -m grader fixtures`` regenerates them (hidden mode with the public
seed, recording).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .worker import decode, encode

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PUBLIC_SEED = 20261121


def student_seed(secret, student):
    """The seed of a student's test inputs in hidden mode: secret and id, hashed."""
    digest = hashlib.sha256(f"{secret}\0{student}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def stable_hash(text):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


class FixtureMissing(LookupError):
    pass


class Store:
    """Recorded values per chapter: {test: {key: value}} in grader/fixtures/<chapter>.json."""

    def __init__(self, mode, directory=None):
        self.mode = mode  # "hidden", "public" or "record"
        self.directory = Path(directory) if directory else FIXTURES
        self.loaded = {}
        self.recorded = {}

    def _file(self, chapter):
        """The chapter's fixture file, parsed once (None when missing or unreadable)."""
        if chapter not in self.loaded:
            try:
                data = json.loads((self.directory / f"{chapter}.json").read_text())
            except (OSError, ValueError):
                data = None
            self.loaded[chapter] = data if isinstance(data, dict) else None
        return self.loaded[chapter]

    def _chapter(self, chapter):
        data = self._file(chapter)
        if data is None or not isinstance(data.get("values"), dict):
            raise FixtureMissing(f"fixture file {chapter}.json is missing or unreadable")
        return data["values"]

    def begin(self, chapter):
        """(chapter id, function) a student begins the chapter with (recorded with the
        fixtures, see runner.record_first_functions), or None."""
        data = (self._file(chapter) or {}).get("begin")
        ok = isinstance(data, list) and len(data) == 2 and all(isinstance(x, str) for x in data)
        return tuple(data) if ok else None

    def load(self, chapter, test, key):
        try:
            return decode(self._chapter(chapter)[test][key])
        except KeyError:
            raise FixtureMissing(f"no recorded value {key!r} for {test}") from None

    def record(self, chapter, test, key, value):
        self.recorded.setdefault(chapter, {}).setdefault(test, {})[key] = encode(value)

    def write(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        for chapter, values in self.recorded.items():
            text = json.dumps(
                {"version": 1, "seed": PUBLIC_SEED, "values": values}, indent=0, sort_keys=True
            )
            (self.directory / f"{chapter}.json").write_text(text + "\n")


class Oracle:
    """Per-test source of inputs (``random``) and expected values (``compute``)."""

    def __init__(self, chapter, test, seed, store, record=True):
        self.chapter, self.test, self.seed, self.store = chapter, test, seed, store
        self.recording = record and store.mode == "record"  # hidden tests are never recorded

    @property
    def mode(self):
        return self.store.mode

    def rng(self, key):
        return np.random.default_rng([self.seed, stable_hash(self.test), stable_hash(key)])

    def random(self, key, fn):
        """fn(rng) -> inputs; the rng is seeded by (seed, test, key)."""
        if self.store.mode == "public":
            return self.store.load(self.chapter, self.test, key)
        value = fn(self.rng(key))
        if self.recording:
            self.store.record(self.chapter, self.test, key, value)
        return value

    def compute(self, key, fn):
        """fn() -> an expected value (calls the reference)."""
        if self.store.mode == "public":
            return self.store.load(self.chapter, self.test, key)
        value = fn()
        if self.recording:
            self.store.record(self.chapter, self.test, key, value)
        return value


def _same_value(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return (
            type(a) is type(b) and len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    if a.dtype.kind == "f":
        # The last bits of float results may differ between BLAS builds.
        return bool(np.allclose(a, b, rtol=1e-10, atol=1e-13, equal_nan=True))
    return bool(np.array_equal(a, b))


def _begin(path):
    try:
        return json.loads(Path(path).read_text()).get("begin")
    except (OSError, ValueError, AttributeError):
        return None


def same_fixtures(path_a, path_b):
    """Do two fixture files hold the same tests, keys and (to float rounding) values?"""
    try:
        a = json.loads(Path(path_a).read_text())["values"]
        b = json.loads(Path(path_b).read_text())["values"]
    except (OSError, ValueError, KeyError):
        return False
    if a.keys() != b.keys() or _begin(path_a) != _begin(path_b):
        return False
    return all(
        a[t].keys() == b[t].keys()
        and all(_same_value(decode(a[t][k]), decode(b[t][k])) for k in a[t])
        for t in a
    )
