"""Turn the plugin's per-test records into a score table and Gradescope's results.json."""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text


def chapter_totals(records):
    totals = OrderedDict()
    for rec in records:
        t = totals.setdefault(
            rec["chapter"], {"score": 0.0, "max_score": 0.0, "passed": 0, "tests": 0}
        )
        t["score"] += rec["score"]
        t["max_score"] += rec["max_score"]
        t["passed"] += rec["status"] == "passed"
        t["tests"] += 1
    return totals


def _pts(x):
    return f"{x:g}"


def print_report(
    records, *, console=None, details=True, max_detail_lines=14, mode="hidden", notes=()
):
    console = console or Console()
    table = Table(title="Grading results", show_lines=False, header_style="bold")
    table.add_column("chapter", no_wrap=True)
    table.add_column("test", overflow="fold")
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    for rec in records:
        ok = rec["status"] == "passed"
        result = Text("ok", style="green") if ok else Text(rec["summary"] or "failed", style="red")
        table.add_row(
            rec["chapter"],
            Text(rec["test"]),
            f"{_pts(rec['score'])}/{_pts(rec['max_score'])}",
            result,
        )
    console.print(table)

    if details:
        failed = [r for r in records if r["status"] != "passed" and r["details"]]
        shown = set()
        for rec in failed:
            # Many tests fail the same way (e.g. a stub): show each distinct message once.
            key = (rec["chapter"], rec["summary"], rec["details"])
            if key in shown:
                continue
            shown.add(key)
            lines = rec["details"].splitlines()
            if len(lines) > max_detail_lines:
                lines = lines[:max_detail_lines] + [
                    f"... ({len(lines) - max_detail_lines} more lines)"
                ]
            console.print(
                Text(f"{rec['chapter']} {rec['test']}: {rec['summary']}", style="bold red")
            )
            console.print(Text("\n".join("    " + ln for ln in lines)))

    totals = chapter_totals(records)
    summary = Table(title="Per chapter", header_style="bold")
    summary.add_column("chapter")
    summary.add_column("tests passed", justify="right")
    summary.add_column("points", justify="right")
    summary.add_column("%", justify="right")
    score = max_score = 0.0
    for chapter, t in totals.items():
        pct = 100.0 * t["score"] / t["max_score"] if t["max_score"] else 0.0
        style = "green" if pct == 100 else ("yellow" if pct > 0 else "red")
        summary.add_row(
            chapter,
            f"{t['passed']}/{t['tests']}",
            f"{_pts(t['score'])}/{_pts(t['max_score'])}",
            Text(f"{pct:.0f}", style=style),
        )
        score += t["score"]
        max_score += t["max_score"]
    if len(totals) > 1:
        pct = 100.0 * score / max_score if max_score else 0.0
        summary.add_row("total", "", f"{_pts(score)}/{_pts(max_score)}", f"{pct:.0f}", style="bold")
    console.print(summary)
    console.print(f"graded in {mode} mode")
    for note in notes:
        console.print(Text(note, style="yellow"))


def gradescope_results(
    records,
    *,
    mode,
    execution_time=None,
    notes=(),
    hidden_visibility="after_published",
    isolation=None,
):
    """Gradescope's results.json: score, max_score, tests[] with name, score, max_score,
    status, output, tags (the chapter id) and visibility."""
    tests = []
    for rec in records:
        output = rec["summary"] if rec["status"] != "passed" else ""
        if rec["details"]:
            output = f"{output}\n{rec['details']}".strip()
        tests.append(
            {
                "name": f"{rec['chapter']} {rec['test']}",
                "score": rec["score"],
                "max_score": rec["max_score"],
                "status": rec["status"],
                "output": output,
                "tags": [rec["chapter"]],
                "visibility": hidden_visibility if rec.get("hidden") else "visible",
                "execution_time": rec.get("duration", 0.0),
            }
        )
        if rec.get("retried"):
            tests[-1]["output"] = (
                tests[-1]["output"] + "\n(run twice: the first run was stopped by the machine, "
                "not by your code: " + rec["retried"] + ")"
            ).strip()
    totals = chapter_totals(records)
    result = {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "output": "\n".join([f"Graded in {mode} mode.", *notes]),
        "tests": tests,
        "extra_data": {"mode": mode, "chapters": totals},
    }
    infra = sum(1 for rec in records if rec.get("infrastructure"))
    if infra:
        result["extra_data"]["infrastructure_failures"] = infra
        result["output"] += (
            f"\n{infra} test(s) could not be graded because of a problem of the machine, "
            "not of the code: grade again."
        )
    if isolation is not None:
        result["isolation"] = isolation
        result["extra_data"]["isolation"] = isolation
    if execution_time is not None:
        result["execution_time"] = round(execution_time, 3)
    return result


def classroom_results(results):
    """GitHub Classroom's test-runner result (what its grading reporter reads, base64-encoded,
    from ``<RUNNER>_RESULTS``): the points of every test of a Gradescope-format ``results``,
    so that Classroom awards the real score. ``results`` None: grading could not run."""
    if results is None:
        return {
            "version": 1,
            "status": "error",
            "max_score": 0,
            "tests": [
                {
                    "name": "grader",
                    "status": "error",
                    "score": 0,
                    "line_no": 0,
                    "filename": "",
                    "test_code": "",
                    "message": "the grader could not run: see the log of the grading step",
                }
            ],
        }
    tests = []
    for t in results["tests"]:
        passed = t["status"] == "passed"
        tests.append(
            {
                "name": t["name"],
                "status": "pass" if passed else "fail",
                "score": t["score"],
                "message": "" if passed else (t.get("output") or "failed").splitlines()[0],
                "line_no": 0,
                "filename": "",
                "test_code": "",
                "execution_time": t.get("execution_time", 0),
            }
        )
    complete = results["score"] >= results["max_score"] > 0
    return {
        "version": 1,
        "status": "pass" if complete else "fail",
        "max_score": results["max_score"],
        "tests": tests,
    }


def write_json_atomic(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
