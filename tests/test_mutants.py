"""The corpus of wrong implementations: each one must lose points on the test meant to
catch it, with the expected diagnosis in the feedback.

A mutant is the solutions tree with one realistic bug patched in; the corpus lives in
``tests/mutants/<chapter>.toml``::

    [[mutant]]
    name = "softmax_without_max_shift"        # what the bug is
    file = "activations.py"                    # in solutions/<chapter>/
    old = "np.exp(inputs - np.max(inputs, axis=1, keepdims=True))"
    new = "np.exp(inputs)"
    catches = ["test_softmax_forward_huge_logits"]   # tests that must fail
    diagnosis = "overflow"                     # must appear in a failing test's feedback

``old`` must occur exactly once (or ``count`` times), so a solution edit that
invalidates a mutant is reported instead of silently testing nothing.
"""

import tomllib
from pathlib import Path

import pytest

from tests.helpers import by_test, copy_solutions, grade_in_process, patch

CORPUS = Path(__file__).resolve().parent / "mutants"


def _mutants():
    for path in sorted(CORPUS.glob("ch*.toml")):
        package = path.stem
        for m in tomllib.loads(path.read_text())["mutant"]:
            yield pytest.param(package, m, id=f"{package[:4]}-{m['name']}")


def test_corpus_has_at_least_six_mutants_per_chapter():
    from grader.chapters import all_chapters

    counts = {}
    for param in _mutants():
        counts[param.values[0]] = counts.get(param.values[0], 0) + 1
    for package in all_chapters():
        assert counts.get(package, 0) >= 6, f"{package}: only {counts.get(package, 0)} mutants"


@pytest.mark.parametrize("package,mutant", list(_mutants()))
def test_mutant_is_caught_with_diagnosis(tmp_path, package, mutant):
    root = copy_solutions(tmp_path / "submission")
    for edit in mutant.get("edits", [mutant]):
        patch(root, f"{package}/{edit['file']}", edit["old"], edit["new"], edit.get("count", 1))
    # Only the tests meant to catch the mutant run: the whole chapter is graded elsewhere.
    # The diagnosis is under test here, not the sandbox (tests/test_isolation.py) nor the
    # command line (tests/test_cli.py): the engine runs in this process, the mutant in a plain
    # worker process, which starts faster.
    results = grade_in_process(root, package, only=mutant["catches"])
    tests = by_test(results)
    score = sum(t["score"] for t in results["tests"])
    assert score < results["max_score"], f"{mutant['name']} scored full marks"
    for name in mutant["catches"]:
        assert name in tests, f"no test named {name} in {package}"
        failed = [t for t in tests[name] if t["status"] == "failed"]
        assert failed, f"{name} did not catch {mutant['name']}"
    # The feedback's own claims: no internal grader error, and no constant factor named on a
    # single number (a ratio between two numbers always exists and says nothing).
    for t in results["tests"]:
        assert "internal grader error" not in t["output"], f"{t['name']}:\n{t['output']}"
        assert not ("constant factor" in t["output"] and " of 1 entries differ" in t["output"]), (
            f"{t['name']} names a constant factor on a single number:\n{t['output']}"
        )
    wanted = mutant["diagnosis"].lower()
    outputs = [
        t["output"] for name in mutant["catches"] for t in tests[name] if t["status"] == "failed"
    ]
    assert any(wanted in o.lower() for o in outputs), (
        f"no failure of {mutant['catches']} says {mutant['diagnosis']!r}:\n"
        + "\n---\n".join(outputs[:3])
    )


def _grader_tests():
    import ast

    suites = Path(__file__).resolve().parent.parent / "grader" / "suites"
    for path in sorted(suites.rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield path.parent.name, node.name


def test_every_grader_test_is_named_by_a_mutant():
    """A grader test is only worth having if it fails on a plausible wrong implementation."""
    named = {name for param in _mutants() for name in param.values[1]["catches"]}
    missing = [f"{package}::{name}" for package, name in _grader_tests() if name not in named]
    assert not missing, (
        "grader tests that no mutant in tests/mutants/ shows failing:\n" + "\n".join(missing)
    )
