"""The report a student reads after `nox -s grade`: a chapter not started is one line, one
mistake is explained once with the cases that show it, the table follows the terminal's
width, and the run ends with the next thing to do."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from rich.console import Console

from grader import report
from tests.helpers import ROOT


def rec(chapter, test, status="failed", summary="", details="", points=1.0, hidden=False):
    return {
        "chapter": chapter,
        "package": {"ch02": "ch02_activations", "ch03": "ch03_losses"}.get(chapter, chapter),
        "test": test,
        "file": "test_x.py",
        "max_score": points,
        "score": points if status == "passed" else 0.0,
        "status": status,
        "hidden": hidden,
        "summary": summary,
        "details": details,
        "duration": 0.01,
    }


def stub(chapter, test, function, owner=None, **kw):
    return rec(
        chapter,
        test,
        summary=f"not implemented yet ({owner or chapter}: implement {function})",
        **kw,
    )


CH02_TEXT = """# Activations
Some words about `Softmax` first, in the story.
## What you implement
- `ReLU.forward` and `.backward`
- `Softmax.forward`
## How it is graded
"""


def next_step(out):
    """The text from "Next:" to the end, one line (the command to run is on its own line)."""
    return " ".join(out[out.rindex("Next:") :].split())


def printed(records, width=100, **kw):
    out = io.StringIO()
    console = Console(file=out, width=width, highlight=False, color_system=None)
    report.print_report(records, console=console, **kw)
    return out.getvalue()


def test_a_chapter_not_started_is_one_line_naming_the_function_to_begin_with(monkeypatch):
    monkeypatch.setattr(report, "chapter_text", lambda package: CH02_TEXT)
    records = [
        stub("ch02", "test_hidden_softmax[4x4]", "Softmax.forward", hidden=True),
        stub("ch02", "test_softmax_forward[1x5]", "Softmax.forward", points=2),
        *[stub("ch02", f"test_relu_forward[{i}x4]", "ReLU.forward") for i in range(1, 40)],
        stub("ch02", "test_relu_backward[1x4]", "ReLU.backward"),
    ]
    out = printed(records)
    # Softmax's test ran first, but the text's list of work names ReLU.forward first.
    assert "ch02 not started: 0/43 - begin with ReLU.forward" in out
    assert "test_relu_forward" not in out and "Grading results" not in out
    assert len(out.splitlines()) < 20
    assert next_step(out) == (
        "Next: read ch02_activations/README.md and implement ReLU.forward, then grade it again: "
        "python3 -m nox -s grade-02"
    )
    assert out.rstrip().splitlines()[-1] == "    python3 -m nox -s grade-02"  # to copy as it is


def test_a_chapter_waiting_for_an_earlier_chapter_says_so(monkeypatch):
    monkeypatch.setattr(report, "chapter_text", lambda package: "")
    records = [
        stub("ch03", "test_softmax_ce[1-3]", "Softmax.forward", owner="ch02"),
        stub("ch03", "test_cce_forward[5-4]", "CategoricalCrossEntropy.forward"),
        rec(
            "ch03",
            "test_cce_forward_raises",
            summary="raised not implemented yet (ch03: "
            "implement CategoricalCrossEntropy.forward), expected a ValueError",
        ),
    ]
    out = printed(records)
    # The chapter's own function comes first; a stub named inside another failure is a stub.
    assert "ch03 not started: 0/3 - begin with CategoricalCrossEntropy.forward" in out
    only_earlier = printed([stub("ch03", "test_softmax_ce[1-3]", "Softmax.forward", owner="ch02")])
    assert "ch03 not started: 0/1 - begin with Softmax.forward of ch02" in only_earlier


def test_a_started_chapter_keeps_its_rows_and_folds_its_stubs_into_one_row_per_function():
    records = [
        rec("ch02", "test_relu_forward[1x5]", status="passed"),
        *[stub("ch02", f"test_softmax_forward[{i}x4]", "Softmax.forward") for i in range(1, 9)],
    ]
    out = printed(records)
    assert "test_relu_forward[1x5]" in out
    assert "8 test(s) of Softmax.forward" in out and "test_softmax_forward[" not in out
    assert "not started" not in out
    assert next_step(out).startswith("Next: implement Softmax.forward, then grade it again")


def _one_over_n(test, n, hidden=False):
    summary = (
        "CategoricalCrossEntropy.backward(dvalues, y_true): output is wrong (every value is "
        f"{n} times too large: divide by the batch size N = {n})"
    )
    details = (
        f"CategoricalCrossEntropy.backward(dvalues, y_true) with dvalues of shape ({n}, 4)\n"
        f"  at [0, 2]: expected -2.5, got {-2.5 * n}\n"
        f"  diagnosis: every value is {n} times too large: divide by the batch size N = {n}"
    )
    return rec("ch03", test, summary=summary, details=details, hidden=hidden)


def test_one_mistake_over_several_shapes_is_explained_once_with_its_cases():
    grad = _one_over_n("test_loss_backward_passes_gradient_check[cce]", 4)
    grad["summary"] = (
        "CategoricalCrossEntropy.backward(dvalues, y_true): gradient fails the gradient check "
        "(relative error 6.0e-01; every value is 4 times too large: divide by the batch size N = 4)"
    )
    other = rec(
        "ch03",
        "test_mse_backward[3]",
        summary="MeanSquaredError.backward(dvalues, y_true): output is wrong (sign flipped)",
        details="MeanSquaredError.backward(dvalues, y_true) with dvalues of shape (3, 1)\n"
        "  diagnosis: the sign is flipped",
    )
    records = [
        _one_over_n("test_hidden_cce_other_shapes[64x10]", 64, hidden=True),
        _one_over_n("test_cce_backward[5-4-sparse]", 5),
        _one_over_n("test_cce_backward[8-10-sparse]", 8),
        grad,
        other,
        rec("ch03", "test_mae_forward[2]", status="passed"),
    ]
    out = printed(records, width=200)
    assert out.count("diagnosis: every value is") == 1  # the explanation, once
    assert "CategoricalCrossEntropy.backward: one mistake, 4 cases" in out
    for case in ("[64x10]", "[5-4-sparse]", "[8-10-sparse]", "gradient_check[cce]"):
        assert case in out.split("one mistake, 4 cases", 1)[1]
    # The explanation shown is a visible case's, not the held-back test's.
    assert "the first case, test_cce_backward[5-4-sparse]" in out
    assert "got -12.5" in out and "got -160" not in out
    assert "diagnosis: the sign is flipped" in out  # another root cause: its own explanation
    assert report.root_cause(records[1]) == report.root_cause(records[2])
    assert report.root_cause(records[1]) != report.root_cause(other)
    last = next_step(out)
    assert last.startswith("Next: fix ch03's first mistake") and last.endswith("grade-03")


def test_the_run_ends_with_the_next_step_after_the_footer():
    done = [rec("ch01", "test_a", status="passed"), rec("ch02", "test_b", status="passed")]
    out = printed(done, footer=["isolation: process", "graded 2 chapter(s)"])
    lines = out.rstrip().splitlines()
    assert lines[-3:-1] == ["isolation: process", "graded 2 chapter(s)"]
    assert lines[-1] == "Next: every graded test passes; go on with the next chapter."
    partly = done + [rec("ch02", "test_c", summary="your code failed: ValueError: bad")]
    assert next_step(printed(partly)).startswith(
        "Next: fix ch02's first mistake explained above (your code failed: ValueError: bad), then"
    )


def test_the_width_follows_the_terminal_when_piped():
    class Piped:
        def fileno(self):
            raise OSError("not a terminal")

    assert report.terminal_width(environ={"COLUMNS": "72"}, streams=[Piped()]) == 72
    assert report.terminal_width(environ={}, streams=[Piped()]) == 100  # a sane default
    assert report.terminal_width(environ={"COLUMNS": "junk"}, streams=[Piped()], default=90) == 90
    # The whole command, piped, at the width COLUMNS gives (the table wraps, no line is longer).
    code = (
        "import json, sys; from grader import report; "
        "report.print_report(json.loads(sys.stdin.read()))"
    )
    records = [
        rec("ch02", f"test_a_rather_long_test_name_with_parameters[{i}-x-y-z]", summary="x " * 60)
        for i in range(3)
    ]
    for width in (70, 130):
        proc = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(records),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"COLUMNS": str(width), "PATH": "/usr/bin:/bin"},
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert max(len(ln) for ln in lines) == width, (width, max(len(ln) for ln in lines))


def test_autograde_feedback_explains_one_mistake_once_over_its_cases(tmp_path):
    from grader.workflows.autograde import write_feedback

    def test(name, n):
        return {
            "name": f"ch03 {name}",
            "score": 0.0,
            "max_score": 1.0,
            "status": "failed",
            "output": (
                "CategoricalCrossEntropy.backward(dvalues, y_true): output is wrong (every value "
                f"is {n} times too large: divide by the batch size N = {n})\n"
                f"  diagnosis: every value is {n} times too large: divide by the batch size N = {n}"
            ),
            "tags": ["ch03"],
            "visibility": "visible",
        }

    tests = [test("test_cce_backward[5-4]", 5), test("test_cce_backward[8-10]", 8)]
    results = {"score": 0.0, "max_score": 2.0, "output": "Graded in hidden mode.", "tests": tests}
    path = tmp_path / "fb.md"
    write_feedback(path, "alice", results, {"missing": [], "scores": {"ch03": [0.0, 2.0]}})
    text = path.read_text()
    assert "`test_cce_backward[5-4]` and 1 more failing the same way (-2 points)" in text
    assert text.count("diagnosis:") == 1
