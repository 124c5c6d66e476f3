"""Instructor commands that must touch only what changed: stubs, fixtures."""

import json
import shutil

import numpy as np

from grader.worker import encode
from grader.workflows import fixtures, stubgen
from tests.helpers import IGNORE, SOLUTIONS


def test_stubs_write_reports_only_the_files_it_changed(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / "ch01_neurons", solutions / "ch01_neurons", ignore=IGNORE)
    exercises = tmp_path / "exercises"
    first = stubgen.write(solutions, exercises)
    assert "ch01_neurons/dense.py" in first and len(first) >= 3
    stamp = (exercises / "ch01_neurons" / "dense.py").stat().st_mtime_ns
    assert stubgen.write(solutions, exercises) == []  # nothing changed, nothing written
    assert (exercises / "ch01_neurons" / "dense.py").stat().st_mtime_ns == stamp
    readme = solutions / "ch01_neurons" / "README.md"
    readme.write_text(readme.read_text() + "\nOne more line.\n")
    (exercises / "ch01_neurons" / "stray.py").write_text("x = 1\n")
    assert stubgen.write(solutions, exercises) == ["ch01_neurons/README.md", "ch01_neurons/stray.py"]
    assert not (exercises / "ch01_neurons" / "stray.py").exists()
    assert stubgen.check(solutions, exercises) == []


def _fixture_file(path, value):
    path.write_text(json.dumps({"version": 1, "seed": 1, "values": {"t": {"x": encode(value)}}}))


def test_fixtures_rewrite_only_what_the_check_calls_different(tmp_path, monkeypatch):
    current = tmp_path / "fixtures"
    current.mkdir()
    value = np.linspace(0.1, 2.0, 7)
    _fixture_file(current / "ch98_a.json", value)
    _fixture_file(current / "ch99_b.json", value)
    recorded = {"ch98_a": value * (1 + 1e-15),  # the last bits differ: the same fixture
                "ch99_b": value * (1 + 1e-6)}   # a real change

    def fake_record(packages, where):
        for p in packages:
            _fixture_file(tmp_path / where / f"{p}.json", recorded[p])

    monkeypatch.setattr(fixtures, "record_fixtures", fake_record)
    monkeypatch.setattr(fixtures, "FIXTURES", current)
    monkeypatch.setattr(fixtures, "reference_available", lambda: True)
    before = (current / "ch98_a.json").read_bytes()
    assert fixtures.stale(["ch98_a", "ch99_b"]) == ["ch99_b"]
    assert fixtures.record(["ch98_a", "ch99_b"]) == ["ch99_b"]
    assert (current / "ch98_a.json").read_bytes() == before
    assert fixtures.stale(["ch98_a", "ch99_b"]) == []
