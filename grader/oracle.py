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


def stable_hash(text):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


class FixtureMissing(LookupError):
    pass


class Store:
    """Recorded values per chapter: {test: {key: value}} in grader/fixtures/<chapter>.json."""

    def __init__(self, mode):
        self.mode = mode  # "hidden", "public" or "record"
        self.loaded = {}
        self.recorded = {}

    def _chapter(self, chapter):
        if chapter not in self.loaded:
            path = FIXTURES / f"{chapter}.json"
            try:
                self.loaded[chapter] = json.loads(path.read_text())["values"]
            except (OSError, ValueError, KeyError) as exc:
                raise FixtureMissing(f"fixture file {path.name} is missing or unreadable") from exc
        return self.loaded[chapter]

    def load(self, chapter, test, key):
        try:
            return decode(self._chapter(chapter)[test][key])
        except KeyError:
            raise FixtureMissing(f"no recorded value {key!r} for {test}") from None

    def record(self, chapter, test, key, value):
        self.recorded.setdefault(chapter, {}).setdefault(test, {})[key] = encode(value)

    def write(self):
        FIXTURES.mkdir(exist_ok=True)
        for chapter, values in self.recorded.items():
            text = json.dumps({"version": 1, "seed": PUBLIC_SEED, "values": values},
                              indent=0, sort_keys=True)
            (FIXTURES / f"{chapter}.json").write_text(text + "\n")


class Oracle:
    """Per-test source of inputs (``random``) and expected values (``compute``)."""

    def __init__(self, chapter, test, seed, store):
        self.chapter, self.test, self.seed, self.store = chapter, test, seed, store

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
        if self.store.mode == "record":
            self.store.record(self.chapter, self.test, key, value)
        return value

    def compute(self, key, fn):
        """fn() -> an expected value (calls the reference)."""
        if self.store.mode == "public":
            return self.store.load(self.chapter, self.test, key)
        value = fn()
        if self.store.mode == "record":
            self.store.record(self.chapter, self.test, key, value)
        return value
