"""Turn the plugin's per-test records into a score table and Gradescope's results.json."""

from __future__ import annotations

import json
import os
import re
import sys
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


# ----------------------------------------------------------------------------- reading records

# "not implemented yet (ch02: implement ReLU.forward)": the summary of an untouched stub.
_TODO = re.compile(r"not implemented yet \((?:(ch\d\d): implement )?([^()]+)\)")
_NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_CALL = re.compile(r"^([A-Za-z_][\w.]*)\(")


# How every test of a chapter not started is failed (grader/plugin.py): this prefix, the
# package, then why and the function to begin with.
NOT_STARTED = "not started: every function "


def todo_of(rec):
    """(chapter id, function) a failed record waits for when its code is still a stub, else None.
    The chapter id is the chapter of the stub (an earlier chapter's, when this chapter's test
    needs a function of it)."""
    if rec["status"] == "passed":
        return None
    if rec.get("untouched"):  # a chapter not started, failed without running its tests
        return (rec["chapter"], rec["untouched"])
    m = _TODO.search(rec.get("summary") or "")
    if not m:
        return None
    return (m.group(1) or rec["chapter"], m.group(2))


def root_cause(rec):
    """What identifies one mistake across the cases that show it: the chapter, the function the
    failure names and its diagnosis (else its summary) with every number made one symbol, so
    that "N = 5" and "N = 8" are the same missing 1/N."""
    summary = rec.get("summary") or ""
    m = _CALL.match(summary)
    function = m.group(1) if m else ""
    diagnosis = ""
    for line in (rec.get("details") or "").splitlines():
        if line.strip().startswith("diagnosis:"):
            diagnosis = line.strip()
    if not diagnosis:
        diagnosis = summary.split("): ", 1)[1] if function and "): " in summary else summary
        if not function:
            diagnosis += "\n" + (rec.get("details") or "")
    return rec["chapter"], function, _NUMBER.sub("#", diagnosis)


def _without_call(summary):
    """A failure's summary without the call it starts with (shown once for a group)."""
    m = _CALL.match(summary or "")
    if m and "): " in summary:
        return summary.split("): ", 1)[1]
    return summary


def chapter_text(package):
    """The text of a chapter (its README.md in the course's exercises/), or "" without one."""
    if not package:
        return ""
    from .chapters import ROOT

    try:
        return (ROOT / "exercises" / package / "README.md").read_text(errors="replace")
    except OSError:
        return ""


def text_rank(function, text):
    """Where the chapter text first names ``function`` in code (``Dense.backward``: where it
    first names `Dense`), looking in its "What you implement" list first; past the end of the
    text when it does not name it."""
    name = re.escape(function.split(".")[0])
    pattern = re.compile(rf"`{name}[`(.]")
    part = text.split("## What you implement", 1)
    if len(part) == 2:
        m = pattern.search(part[1].split("\n## ", 1)[0])
        if m:
            return m.start()
    m = pattern.search(text)
    return len(text) + 1 + m.start() if m else 2 * len(text) + 2


def chapter_states(records, text_of=chapter_text):
    """{chapter: state} in the records' order. A state has the totals (``chapter_totals``) and
    ``not_started`` (no test passed and every failure is a stub), ``begin`` (the function to
    write first: among the chapter's own stubs that visible tests met, the one its text
    introduces first, ties in the order of the tests), ``todo`` ({(chapter, function):
    [records]}) and ``ran`` (failed records whose code did run)."""
    totals = chapter_totals(records)
    states = OrderedDict()
    for chapter, t in totals.items():
        recs = [r for r in records if r["chapter"] == chapter]
        failed = [r for r in recs if r["status"] != "passed"]
        todo = OrderedDict()
        ran = []
        for r in failed:
            key = todo_of(r)
            if key is None:
                ran.append(r)
            else:
                todo.setdefault(key, []).append(r)
        package = next((r.get("package") for r in recs if r.get("package")), None)
        text = text_of(package) if todo else ""
        visible = [k for k, rs in todo.items() if any(not r.get("hidden") for r in rs)]
        candidates = [k for k in visible if k[0] == chapter] or visible or list(todo)
        order = {k: i for i, k in enumerate(todo)}
        begin = min(
            candidates,
            key=lambda k: (k[0] != chapter, text_rank(k[1], text), order[k]),
            default=None,
        )
        states[chapter] = {
            **t,
            "package": package,
            "not_started": bool(failed) and t["passed"] == 0 and not ran,
            "begin": begin,
            "todo": todo,
            "ran": ran,
        }
    return states


def _grade_command(chapter):
    return f"python3 -m nox -s grade-{chapter[2:]}" if re.fullmatch(r"ch\d\d", chapter) else ""


def _begin_text(chapter, begin):
    if begin is None:
        return ""
    where, function = begin
    return function if where == chapter else f"{function} of {where}"


def not_started_line(chapter, state):
    """One line for a chapter whose code is all stubs: "ch02 not started: 0/65 - begin with ..."."""
    line = f"{chapter} not started: {_pts(state['score'])}/{_pts(state['max_score'])}"
    begin = _begin_text(chapter, state["begin"])
    if begin:
        line += f" - begin with {begin}"
    return line


def next_step(states):
    """The one thing to do next, after a run: the first chapter not at full marks, and in it the
    first mistake explained above or the first function still to write."""
    infra = [s for s in states.values() if any(r.get("infrastructure") for r in s["ran"])]
    for chapter, s in states.items():
        if s["max_score"] and s["score"] >= s["max_score"]:
            continue
        again = _grade_command(chapter)
        then = f", then grade it again:\n    {again}" if again else "."
        if infra:
            return (
                "Next: grade again; some tests could not run because of a problem of the machine."
            )
        if s["not_started"]:
            begin = _begin_text(chapter, s["begin"])
            package = s["package"]
            text = f"{package}/README.md" if package else "the chapter's text"
            return f"Next: read {text} and implement {begin}{then}"
        if s["ran"]:
            first = s["ran"][0]
            summary = first["summary"] or "failed"
            if len(summary) > 110:
                summary = summary[:107] + "..."
            return f"Next: fix {chapter}'s first mistake explained above ({summary}){then}"
        if s["begin"]:
            left = len(s["todo"])
            more = f" ({left} functions left)" if left > 1 else ""
            return f"Next: implement {_begin_text(chapter, s['begin'])}{more}{then}"
        return f"Next: look at {chapter}'s failures above{then}"
    if not states:
        return "Next: nothing was graded; check the chapter names."
    return "Next: every graded test passes; go on with the next chapter."


def group_failures(records):
    """[(representative record, [records with the same root cause])] of the failures that have
    details, in the order of their first case. Stubs (not implemented yet) have no details."""
    groups = OrderedDict()
    for rec in records:
        if rec["status"] == "passed" or not rec.get("details") or todo_of(rec):
            continue
        groups.setdefault(root_cause(rec), []).append(rec)
    out = []
    for cases in groups.values():
        visible = [r for r in cases if not r.get("hidden")]
        out.append(((visible or cases)[0], cases))
    return out


# ----------------------------------------------------------------------------- printing


def terminal_width(default=100, environ=None, streams=None):
    """The width to print at: the terminal's, also when the output is piped (from $COLUMNS, or
    from another of the process's streams that is still a terminal), else ``default``."""
    env = os.environ if environ is None else environ
    columns = str(env.get("COLUMNS", "")).strip()
    if columns.isdigit() and int(columns) >= 40:
        return int(columns)
    for stream in streams if streams is not None else (sys.stdout, sys.stderr, sys.stdin):
        try:
            size = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            continue
        if size >= 40:
            return size
    return default


def make_console(file=None):
    """The console the report prints on: the terminal's width whether or not it is piped."""
    return Console(highlight=False, width=terminal_width(), file=file)


def print_report(
    records,
    *,
    console=None,
    details=True,
    max_detail_lines=14,
    mode="hidden",
    notes=(),
    footer=(),
):
    """Print the table of tests (a chapter not started as one line), each mistake explained once
    with the cases that show it, the points per chapter, ``notes``, ``footer`` (plain lines),
    and last the next thing to do."""
    console = console or make_console()
    states = chapter_states(records)
    started = [r for r in records if not states[r["chapter"]]["not_started"]]
    table = Table(title="Grading results", show_lines=False, header_style="bold")
    table.add_column("chapter", no_wrap=True)
    table.add_column("test", overflow="fold")
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("result", overflow="fold")
    waiting = set()
    for rec in started:
        ok = rec["status"] == "passed"
        key = todo_of(rec)
        if key is not None:
            # A started chapter: the tests still waiting for a stub make one row per function.
            if key in waiting:
                continue
            waiting.add(key)
            cases = states[rec["chapter"]]["todo"][key]
            score = sum(r["score"] for r in cases)
            top = sum(r["max_score"] for r in cases)
            where = "" if key[0] == rec["chapter"] else f" ({key[0]})"
            table.add_row(
                rec["chapter"],
                Text(f"{len(cases)} test(s) of {key[1]}{where}"),
                f"{_pts(score)}/{_pts(top)}",
                Text("not implemented yet", style="yellow"),
            )
            continue
        result = Text("ok", style="green") if ok else Text(rec["summary"] or "failed", style="red")
        if ok and rec.get("warnings"):  # right values, but numpy warned (grader/plugin.py)
            result = Text(f"ok, but your code warned: {rec['warnings'][0]}", style="yellow")
        table.add_row(
            rec["chapter"],
            Text(rec["test"]),
            f"{_pts(rec['score'])}/{_pts(rec['max_score'])}",
            result,
        )
    if started:
        console.print(table)
    for chapter, state in states.items():
        if state["not_started"]:
            console.print(Text(not_started_line(chapter, state), style="yellow"))

    if details:
        for rec, cases in group_failures(records):
            lines = rec["details"].splitlines()
            if len(lines) > max_detail_lines:
                lines = lines[:max_detail_lines] + [
                    f"... ({len(lines) - max_detail_lines} more lines)"
                ]
            if len(cases) == 1:
                console.print(
                    Text(f"{rec['chapter']} {rec['test']}: {rec['summary']}", style="bold red")
                )
            else:
                function = root_cause(rec)[1]
                what = f"{function}: " if function else ""
                console.print(
                    Text(
                        f"{rec['chapter']} {what}one mistake, {len(cases)} cases: "
                        f"{_without_call(rec['summary'])}",
                        style="bold red",
                    )
                )
                for r in cases:
                    same = r["summary"] == rec["summary"]
                    rest = "" if same else f": {_without_call(r['summary'])}"
                    console.print(Text(f"    {r['test']}{rest}"))
                console.print(Text(f"  the first case, {rec['test']}:"))
            console.print(Text("\n".join("    " + ln for ln in lines)))

    summary = Table(title="Per chapter", header_style="bold")
    summary.add_column("chapter")
    summary.add_column("tests passed", justify="right")
    summary.add_column("points", justify="right")
    summary.add_column("%", justify="right")
    score = max_score = 0.0
    for chapter, t in states.items():
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
    if len(states) > 1:
        pct = 100.0 * score / max_score if max_score else 0.0
        summary.add_row("total", "", f"{_pts(score)}/{_pts(max_score)}", f"{pct:.0f}", style="bold")
    console.print(summary)
    console.print(f"graded in {mode} mode")
    for note in notes:
        console.print(Text(note, style="yellow"))
    for line in footer:
        console.print(Text(line))
    console.print(Text(next_step(states), style="bold"))


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
