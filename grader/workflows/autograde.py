"""Grade a whole class: ``python -m grader autograde SUBMISSIONS --out DIR``.

SUBMISSIONS holds one folder or one ``.zip`` per student; the name (without ``.zip``) is
the student id. Every submission is unpacked safely, graded in hidden mode with inputs
seeded from the course secret and the student id, in its own ``python -m grader grade``
process with a wall-clock limit, several at a time. DIR receives:

    gradebook.csv            one row per student: a column per chapter, total, status
    feedback/<student>.md    per-test results and diagnoses for the student
    results/<student>.json   Gradescope-format results (for the instructor)
    state/<student>.json     what was graded, from which content: makes re-runs skip
                             unchanged submissions and resume after an interruption
    summary.png              one figure: the total scores, and per chapter how many
                             students scored full marks, part of the points or zero

A submission that cannot be graded gets a status saying why (not a zip, unsafe paths,
too large, empty, no chapter folders, timeout); its score cells stay empty so that a
real zero is never confused with "could not be graded".
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..chapters import ROOT, SUITES, chapter_id, is_chapter_dir, is_ignored
from ..oracle import student_seed
from ..report import root_cause, write_json_atomic
from ..runner import SECRET_FILE, course_secret, grade_subprocess

MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 2000
FINAL_STATUSES = (
    "graded",
    "empty",
    "not-a-zip",
    "unsafe-zip",
    "too-large",
    "no-chapters",
    "bad-entry",
    "bad-names",
)


class SubmissionError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def student_id(path: Path):
    """The student id of a submission: its name without .zip, with every character other than
    letters, digits and ``._@+-`` replaced by ``_`` (names that are not valid UTF-8 too)."""
    name = os.fsdecode(os.fsencode(path.name)) if isinstance(path, Path) else str(path)
    name = name[:-4] if name.lower().endswith(".zip") else name
    name = re.sub(
        r"[^A-Za-z0-9._@+-]",
        "_",
        name.encode("utf-8", "surrogateescape").decode("ascii", "replace"),
    )
    name = name.replace("\ufffd", "_").lstrip(".")
    return name[:120] or "_"


def display_name(path: Path):
    """A submission's file name as text that can always be printed and written as UTF-8."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


# ------------------------------------------------------------------ unpacking safely


def content_hash(path: Path):
    h = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink() and not is_ignored(p.relative_to(path)):
            h.update(p.relative_to(path).as_posix().encode() + b"\0")
            h.update(p.read_bytes())
    return h.hexdigest()


def extract_zip(path: Path, dest: Path):
    """Unpack a submitted zip into ``dest`` safely (no absolute or ``..`` paths, no links,
    size and file-count limits); raises SubmissionError with the reason."""
    try:
        zf = zipfile.ZipFile(path)
    except UnicodeDecodeError:
        raise SubmissionError(
            "bad-names",
            "the zip's file names are marked UTF-8 but are not valid UTF-8; "
            "zip the folder again with a standard tool",
        ) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise SubmissionError("not-a-zip", "the file is not a readable zip archive") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise SubmissionError(
                "too-large", f"the zip holds {len(infos)} entries (limit {MAX_FILES})"
            )
        total = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise SubmissionError(
                    "unsafe-zip", f"the zip holds an unsafe path {info.filename!r} (zip-slip)"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise SubmissionError(
                    "unsafe-zip", f"the zip holds a symbolic link {info.filename!r}"
                )
            if info.file_size > MAX_FILE_BYTES:
                raise SubmissionError(
                    "too-large",
                    f"{info.filename} is {info.file_size} bytes "
                    f"(limit {MAX_FILE_BYTES // 2**20} MiB per file)",
                )
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(
                    "too-large", f"the zip unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB"
                )
        for info in infos:
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
            if not parts or "__MACOSX" in parts:
                continue
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_FILE_BYTES:  # the header lied about the size
                            raise SubmissionError(
                                "too-large", f"{info.filename} is larger than its header says"
                            )
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
                raise SubmissionError("not-a-zip", f"the zip is corrupt ({exc})") from None


def copy_folder(src: Path, dest: Path):
    """Copy a submitted folder into ``dest`` (links never followed, tool litter left out,
    size and file-count limits); raises SubmissionError with the reason."""
    total = count = 0
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if p.is_symlink() or is_ignored(rel):
            continue  # never follow links out of the submission
        if p.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
            continue
        size = p.stat().st_size
        count += 1
        total += size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(
                "too-large", f"{rel} is {size} bytes (limit {MAX_FILE_BYTES // 2**20} MiB per file)"
            )
        if total > MAX_TOTAL_BYTES or count > MAX_FILES:
            raise SubmissionError("too-large", "the folder is larger than the limit")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest / rel)


def find_root(unpacked: Path):
    """The folder holding the chNN_* packages: the top, a single nested folder, or exercises/."""
    candidates = [unpacked]
    for _ in range(3):
        here = candidates[-1]
        if any(is_chapter_dir(p.name) for p in here.iterdir() if p.is_dir()):
            return here
        subdirs = [p for p in here.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
        if (here / "exercises").is_dir():
            candidates.append(here / "exercises")
        elif len(subdirs) == 1:
            candidates.append(subdirs[0])
        else:
            break
    if not any(unpacked.rglob("*")):
        raise SubmissionError("empty", "the submission is empty")
    raise SubmissionError(
        "no-chapters", "no chapter folders (ch01_neurons, ...) found in the submission"
    )


# ----------------------------------------------------------------------------- grading


def grader_fingerprint(chapters, extra=""):
    """Changes whenever what grading depends on changes (suites, engine, reference)."""
    h = hashlib.sha256(json.dumps([chapters, extra]).encode())
    files = sorted((ROOT / "grader").glob("*.py")) + sorted((ROOT / "reference").glob("*.py"))
    for c in chapters:
        files += sorted((SUITES / c).rglob("*.py")) + sorted((ROOT / "reference" / c).rglob("*.py"))
    for p in files:
        if not is_ignored(p.relative_to(ROOT)):
            h.update(p.relative_to(ROOT).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def grade_one(
    entry: Path,
    out: Path,
    chapters,
    *,
    secret,
    timeout,
    independent,
    call_timeout,
    isolation_level="sandbox",
    allow_weak_isolation=False,
    work_dir=None,
):
    sid = student_id(entry)
    started = time.perf_counter()
    state = {
        "student": sid,
        "source": display_name(entry),
        "status": "",
        "message": "",
        "scores": {},
        "missing": [],
        "isolation": "",
    }
    with tempfile.TemporaryDirectory(prefix=f"{sid}-", dir=work_dir) as tmp:
        tmp = Path(tmp)
        unpacked = tmp / "unpacked"
        unpacked.mkdir()
        try:
            if entry.is_dir():
                copy_folder(entry, unpacked)
            elif entry.is_file() and entry.suffix.lower() == ".zip":
                extract_zip(entry, unpacked)
            else:
                raise SubmissionError("bad-entry", "not a folder or a .zip file")
            root = find_root(unpacked)
        except SubmissionError as exc:
            state.update(status=exc.status, message=exc.message)
            return state
        state["missing"] = [chapter_id(c) for c in chapters if not (root / c).is_dir()]
        results_path = out / "results" / f"{sid}.json"
        tmp_results = tmp / "results.json"
        options = [
            "--mode",
            "hidden",
            "--seed",
            student_seed(secret, sid),
            "--call-timeout",
            call_timeout,
            "--isolation",
            isolation_level,
        ]
        if allow_weak_isolation:
            options.append("--allow-weak-isolation")
        if independent:
            options.append("--independent")
        for attempt in (1, 2):
            tmp_results.unlink(missing_ok=True)
            log_path = tmp / f"grade-{attempt}.log"
            try:  # the child sees no secret: its seed is given; its output goes to a file, not memory
                with open(log_path, "w+b") as log:
                    proc = grade_subprocess(
                        [chapter_id(c) for c in chapters],
                        root,
                        results=tmp_results,
                        options=options,
                        timeout=timeout,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=_die_with_parent,
                    )
            except subprocess.TimeoutExpired:
                state.update(status="timeout", message=f"grading took longer than {timeout:g} s")
                return state
            killed = proc.returncode < 0 and proc.returncode != -signal.SIGTERM
            if killed and attempt == 1:
                # The grading process itself was killed (student code runs in its own worker
                # below it): the machine did it. Once more, and say so.
                state["retried"] = (
                    f"the grading process was killed by signal {-proc.returncode}; graded again"
                )
                continue
            break
        if proc.returncode != 0 or not tmp_results.is_file():
            tail = _tail(log_path).strip().splitlines()[-3:]
            state.update(
                status="grader-error", message=" | ".join(tail) or f"exit status {proc.returncode}"
            )
            return state
        results = json.loads(tmp_results.read_text())
        state["isolation"] = str(results.get("isolation", ""))
        infra = int(results.get("extra_data", {}).get("infrastructure_failures", 0) or 0)
        if infra:
            # Not final: the next run grades this submission again.
            state.update(
                status="infrastructure",
                message=f"{infra} test(s) could not run (a machine problem, "
                "not the student's code): run autograde again",
            )
            return state
        results_path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(results_path, results)
        for c in chapters:
            tests = [t for t in results["tests"] if chapter_id(c) in t["tags"]]
            state["scores"][chapter_id(c)] = [
                sum(t["score"] for t in tests),
                sum(t["max_score"] for t in tests),
            ]
        state["status"] = "graded"
        if state["missing"]:
            state["message"] = "missing chapter(s): " + ", ".join(state["missing"])
        write_feedback(out / "feedback" / f"{sid}.md", sid, results, state)
        state["seconds"] = round(time.perf_counter() - started, 2)
        return state


def _tail(path: Path, limit=4000):
    """The last ``limit`` bytes of a log file, as text."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _die_with_parent():
    """In a grading child, before exec: its own session, and SIGKILL when autograde dies
    (Linux), so that an interrupted run leaves no grading process behind."""
    os.setsid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


_VALUE_LINE = re.compile(r"^\s*at \[.*\]: (expected|numerical) ")
_FUNCTION = re.compile(r"^([A-Za-z_][\w.]*)\(")


def _hidden_hint(summary):
    """What a hidden test's failure may tell: the function it called, nothing else (no test
    name, no shapes or hyper-parameters, no values)."""
    m = _FUNCTION.match(summary or "")
    return m.group(1) if m else None


def write_feedback(path: Path, sid, results, state):
    """Markdown feedback for the student: the score, then per chapter the failures first
    (each distinct failure once, with its diagnosis), the passing tests as a count. Hidden
    tests are counted, never named, and show at most the function they called; no expected
    (reference) values appear."""
    lines = [f"# Feedback for {sid}", ""]
    total, max_total = results["score"], results["max_score"]
    lines += [f"**Score: {total:g} / {max_total:g}**", ""]
    if state["missing"]:
        lines += [f"Missing from your submission: {', '.join(state['missing'])} (scored 0).", ""]
    for note in results.get("output", "").splitlines()[1:]:
        lines += [f"> {note}", ""]
    lines += ["| chapter | points | tests passed |", "|---|---|---|"]
    for chapter, (score, max_score) in state["scores"].items():
        tests = [t for t in results["tests"] if chapter in t["tags"]]
        passed = sum(t["status"] == "passed" for t in tests)
        lines.append(f"| {chapter} | {score:g} / {max_score:g} | {passed} of {len(tests)} |")
    lines.append("")
    for chapter in state["scores"]:
        tests = [t for t in results["tests"] if chapter in t["tags"]]
        visible = [t for t in tests if t.get("visibility") != "after_published"]
        hidden = [t for t in tests if t.get("visibility") == "after_published"]
        failed = [t for t in visible if t["status"] != "passed"]
        hidden_failed = [t for t in hidden if t["status"] != "passed"]
        passed = len(tests) - len(failed) - len(hidden_failed)
        lines += [f"## {chapter}: {passed} of {len(tests)} tests passed", ""]
        groups = {}
        for t in failed:
            summary = t["output"].splitlines()[0] if t["output"] else "failed"
            details = tuple(ln for ln in t["output"].splitlines()[1:] if not _VALUE_LINE.match(ln))
            # One mistake over several cases (same function and diagnosis, numbers aside): once.
            key = root_cause(
                {"chapter": chapter, "summary": summary, "details": "\n".join(details)}
            )
            groups.setdefault(key, (summary, details, []))[2].append(t)
        for summary, details, group in groups.values():
            name = group[0]["name"].split(" ", 1)[1]
            lost = sum(t["max_score"] - t["score"] for t in group)
            more = f" and {len(group) - 1} more failing the same way" if len(group) > 1 else ""
            lines.append(f"- **failed** `{name}`{more} (-{lost:g} points): {summary}")
            if details:
                lines += ["", "  ```", *("  " + ln for ln in details[:12]), "  ```", ""]
        if hidden_failed:
            lost = sum(t["max_score"] - t["score"] for t in hidden_failed)
            functions = sorted(
                {
                    h
                    for t in hidden_failed
                    if (h := _hidden_hint(t["output"].splitlines()[0] if t["output"] else ""))
                }
            )
            where = f" (calling {', '.join(f'`{f}`' for f in functions)})" if functions else ""
            lines.append(
                f"- **failed**: {len(hidden_failed)} hidden test(s){where} (-{lost:g} points); hidden tests "
                "check the same functions on inputs you do not see"
            )
        if passed:
            hidden_passed = sum(t["status"] == "passed" for t in hidden)
            extra = f" ({hidden_passed} of them hidden)" if hidden_passed else ""
            lines.append(f"- passed: {passed} test(s){extra}")
        lines.append("")
    _write_atomic(path, "\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- the run


def _entries(submissions: Path):
    return [p for p in sorted(submissions.iterdir()) if not p.name.startswith(".")]


def write_gradebook(out: Path, states, chapters):
    ids = [chapter_id(c) for c in chapters]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student", *ids, "total", "max_total", "status", "message", "isolation"])
    max_total = None
    for st in sorted(states, key=lambda s: (s["student"], bool(s.get("duplicate")))):
        if st["status"] == "graded":
            scores = [st["scores"].get(i, [0, 0]) for i in ids]
            total = sum(s[0] for s in scores)
            max_total = sum(s[1] for s in scores)
            message = "; ".join(m for m in (st.get("message", ""), st.get("retried", "")) if m)
            writer.writerow(
                [
                    st["student"],
                    *[f"{s[0]:g}" for s in scores],
                    f"{total:g}",
                    f"{max_total:g}",
                    "graded",
                    message,
                    st.get("isolation", ""),
                ]
            )
        else:
            writer.writerow(
                [
                    st["student"],
                    *[""] * len(ids),
                    "",
                    "",
                    st["status"],
                    st["message"],
                    st.get("isolation", ""),
                ]
            )
    _write_atomic(out / "gradebook.csv", buf.getvalue())


def _write_atomic(path: Path, text: str):
    """Write through a uniquely named temporary file and rename: concurrent writers never
    share a temporary file, and a reader sees the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_secret(secret_file=None, log=print):
    """The course secret; created (random, in the secret file) when there is none yet."""
    secret = course_secret(secret_file)
    if secret is None:
        path = Path(secret_file) if secret_file else ROOT / SECRET_FILE
        path.write_text(secrets.token_hex(16) + "\n")
        log(f"created the course secret in {path} (keep it: it seeds every student's test inputs)")
        secret = course_secret(path)
    return secret


def parse_shard(text):
    """``"i/n"`` (1 <= i <= n) -> (i, n); raises ValueError."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError(f"--shard wants I/N with 1 <= I <= N (e.g. 2/8), not {text!r}")
    return int(m.group(1)), int(m.group(2))


def shard_of(sid, n):
    """The shard (1..n) of a student: from a hash of the id, so it does not change when other
    students are added or removed, and every job of an array computes the same split."""
    return int.from_bytes(hashlib.sha256(sid.encode()).digest()[:8], "big") % n + 1


def run(
    submissions: Path,
    out: Path,
    chapters,
    *,
    jobs=2,
    secret,
    timeout=600.0,
    independent=False,
    call_timeout=10.0,
    log=print,
    isolation_level="sandbox",
    allow_weak_isolation=False,
    shard=None,
):
    """Grade the submissions (those of ``shard`` = (i, n) only, when given) into ``out``."""
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions} is not a folder of submissions")
    out.mkdir(parents=True, exist_ok=True)
    (out / "state").mkdir(exist_ok=True)
    with _exclusive(out):
        # Unpacked submissions of an interrupted run: nothing in them is needed any more.
        work_dir = out / ".work"
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(mode=0o700)
        try:
            return _run_locked(
                submissions,
                out,
                chapters,
                jobs=jobs,
                secret=secret,
                timeout=timeout,
                independent=independent,
                call_timeout=call_timeout,
                log=log,
                isolation_level=isolation_level,
                allow_weak_isolation=allow_weak_isolation,
                work_dir=work_dir,
                shard=shard,
            )
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)


class RunInProgress(RuntimeError):
    pass


@contextlib.contextmanager
def _exclusive(out: Path):
    """One autograde run per output folder at a time (a lock file; released if the run dies)."""
    lock = open(out / ".lock", "w")
    try:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not on Windows: no lock
            pass
        except OSError:
            raise RunInProgress(
                f"another autograde run is writing to {out}; wait for it to finish"
            ) from None
        yield
    finally:
        lock.close()


SLICE_FILE = "slice.json"


def _run_locked(
    submissions,
    out,
    chapters,
    *,
    jobs,
    secret,
    timeout,
    independent,
    call_timeout,
    log,
    isolation_level,
    allow_weak_isolation,
    work_dir,
    shard=None,
):
    fingerprint = grader_fingerprint(
        chapters, f"{independent}:{hashlib.sha256(secret.encode()).hexdigest()}"
    )
    entries = _entries(submissions)
    if shard is not None:
        entries = [e for e in entries if shard_of(student_id(e), shard[1]) == shard[0]]
    seen, states, todo, keys = set(), {}, [], {}
    for entry in entries:
        sid = student_id(entry)
        if sid in seen:
            states[sid + "#dup"] = {
                "student": sid,
                "status": "bad-entry",
                "scores": {},
                "missing": [],
                "duplicate": True,
                "message": f"another submission has the same student id ({entry.name})",
            }
            continue
        seen.add(sid)
        key = hashlib.sha256(f"{fingerprint}:{content_hash(entry)}".encode()).hexdigest()
        keys[sid] = key
        state_file = out / "state" / f"{sid}.json"
        if state_file.is_file():
            try:
                old = json.loads(state_file.read_text())
            except ValueError:
                old = {}
            if old.get("key") == key and old.get("status") in FINAL_STATUSES:
                states[sid] = old
                continue
        todo.append((entry, sid, key))
    skipped = len(states) - sum(1 for st in states.values() if st.get("duplicate"))
    # What `merge` needs to build one gradebook from several slices: which students this run
    # is responsible for, with which grader, chapters and secret (the fingerprint).
    write_json_atomic(
        out / SLICE_FILE,
        {
            "fingerprint": fingerprint,
            "chapters": list(chapters),
            "shard": list(shard) if shard else None,
            "students": keys,
            "duplicates": [st for st in states.values() if st.get("duplicate")],
        },
    )
    where = f" in shard {shard[0]}/{shard[1]}" if shard else ""
    log(
        f"{len(entries)} submission(s){where}: {len(todo)} to grade, {skipped} unchanged since the last run"
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(
                grade_one,
                entry,
                out,
                chapters,
                secret=secret,
                timeout=timeout,
                independent=independent,
                call_timeout=call_timeout,
                isolation_level=isolation_level,
                allow_weak_isolation=allow_weak_isolation,
                work_dir=work_dir,
            ): (sid, key)
            for entry, sid, key in todo
        }
        for future in as_completed(futures):
            sid, key = futures[future]
            try:
                st = future.result()
            except Exception as exc:  # a bug in the autograder must not lose the other grades
                st = {
                    "student": sid,
                    "status": "grader-error",
                    "message": f"{type(exc).__name__}: {exc}",
                    "scores": {},
                    "missing": [],
                }
            st["key"] = key
            states[sid] = st
            write_json_atomic(out / "state" / f"{sid}.json", st)
            write_gradebook(out, list(states.values()), chapters)
            shown = (
                " ".join(f"{c}:{s[0]:g}/{s[1]:g}" for c, s in st["scores"].items()) or st["message"]
            )
            log(f"  {sid}: {st['status']}  {shown}")
    write_gradebook(out, list(states.values()), chapters)
    elapsed = time.perf_counter() - started
    return {"states": states, "graded_now": len(todo), "skipped": skipped, "seconds": elapsed}


class MergeError(ValueError):
    pass


def merge(slices, out: Path, *, log=print):
    """Build one output folder (gradebook, feedback, results, state, summary) from the output
    folders of ``autograde --shard`` runs. Refuses slices graded with another grader, secret,
    option set or chapter list, a student claimed by two slices, an incomplete set of shards,
    and a slice whose run has not finished every one of its students (run it again: it
    resumes). The merged folder's state/ lets a later `autograde` into it skip every
    unchanged submission."""
    out = Path(out)
    metas = []
    for folder in map(Path, slices):
        try:
            metas.append((folder, json.loads((folder / SLICE_FILE).read_text())))
        except (OSError, ValueError):
            raise MergeError(
                f"{folder} is not the output folder of an autograde run (no {SLICE_FILE})"
            ) from None
    fingerprints = {m["fingerprint"] for _, m in metas}
    if len(fingerprints) != 1:
        raise MergeError(
            "the slices were graded with different graders, secrets, options or chapters: "
            "grade them all again with the same ones"
        )
    chapters = metas[0][1]["chapters"]
    shards = [tuple(m["shard"]) if m.get("shard") else (1, 1) for _, m in metas]
    counts = {n for _, n in shards}
    if len(counts) != 1 or sorted(i for i, _ in shards) != list(range(1, counts.pop() + 1)):
        raise MergeError(
            f"the slices are shards {', '.join(f'{i}/{n}' for i, n in shards)}: "
            "give exactly one folder per shard I/N, for every I"
        )
    fingerprint = fingerprints.pop()
    owner, states = {}, {}
    for folder, meta in metas:
        for sid in sorted(meta["students"]):
            if sid in owner:
                raise MergeError(f"student {sid} is in two slices ({owner[sid]} and {folder})")
            owner[sid] = folder
            try:
                st = json.loads((folder / "state" / f"{sid}.json").read_text())
            except (OSError, ValueError):
                st = {}
            if st.get("key") != meta["students"][sid]:
                raise MergeError(
                    f"{folder} has not finished grading {sid}: run its autograde --shard again "
                    "(it resumes where it stopped), then merge"
                )
            states[sid] = st
        for i, dup in enumerate(meta.get("duplicates", [])):
            states[f"{dup['student']}#dup{folder}#{i}"] = dup
    out.mkdir(parents=True, exist_ok=True)
    (out / "state").mkdir(exist_ok=True)
    with _exclusive(out):
        for sid, st in states.items():
            if st.get("duplicate"):
                continue
            folder = owner[sid]
            write_json_atomic(out / "state" / f"{sid}.json", st)
            for sub, suffix in (("results", ".json"), ("feedback", ".md")):
                src = folder / sub / f"{sid}{suffix}"
                if st["status"] == "graded" and src.is_file():
                    (out / sub).mkdir(exist_ok=True)
                    _write_atomic(out / sub / src.name, src.read_text(encoding="utf-8"))
        write_gradebook(out, list(states.values()), chapters)
        write_json_atomic(
            out / SLICE_FILE,
            {
                "fingerprint": fingerprint,
                "chapters": chapters,
                "shard": None,
                "students": {sid: states[sid]["key"] for sid in sorted(owner)},
                "duplicates": [st for st in states.values() if st.get("duplicate")],
            },
        )
    log(f"merged {len(metas)} slice(s): {len(owner)} student(s) into {out / 'gradebook.csv'}")
    return {
        "states": states,
        "graded_now": 0,
        "skipped": len(owner),
        "seconds": 0.0,
        "chapters": chapters,
    }


def summarize(summary, chapters, out: Path, console=None):
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    states = list(summary["states"].values())
    graded = [s for s in states if s["status"] == "graded"]
    failed = [s for s in states if s["status"] != "graded"]
    console.print(
        f"graded {len(graded)}, could not grade {len(failed)}, "
        f"re-used {summary['skipped']} unchanged; {summary['seconds']:.1f} s"
    )
    for s in failed:
        console.print(f"  {s['student']}: {s['status']}: {s['message']}", markup=False)
    table = Table(title="Score distribution per chapter (% of the chapter's points)")
    for col in ("chapter", "n", "mean", "min", "median", "max"):
        table.add_column(col, justify="right" if col != "chapter" else "left")
    per_chapter = {}
    for c in chapters:
        cid = chapter_id(c)
        pct = sorted(
            100 * s["scores"][cid][0] / s["scores"][cid][1]
            for s in graded
            if s["scores"].get(cid, [0, 0])[1]
        )
        per_chapter[cid] = pct
        if pct:
            mid = (
                pct[len(pct) // 2]
                if len(pct) % 2
                else (pct[len(pct) // 2 - 1] + pct[len(pct) // 2]) / 2
            )
            table.add_row(
                cid,
                str(len(pct)),
                f"{sum(pct) / len(pct):.0f}",
                f"{pct[0]:.0f}",
                f"{mid:.0f}",
                f"{pct[-1]:.0f}",
            )
    console.print(table)
    totals = [
        100 * sum(v[0] for v in s["scores"].values()) / sum(v[1] for v in s["scores"].values())
        for s in graded
        if sum(v[1] for v in s["scores"].values())
    ]
    _histogram(per_chapter, out / "summary.png", totals)
    console.print(
        f"gradebook: {out / 'gradebook.csv'}; feedback: {out / 'feedback'}/; histogram: {out / 'summary.png'}"
    )


def _histogram(per_chapter, path, totals=None):
    """summary.png: one titled figure. Left, how many students reached each band of the
    total score; right, per chapter, how many scored full marks, part of the points or zero.
    Every count is a whole number of students."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    chapters = [c for c, v in per_chapter.items() if v]
    if not chapters:
        return
    totals = list(totals or [])
    n = max([len(totals)] + [len(per_chapter[c]) for c in chapters])
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(11, max(4.0, 0.45 * len(chapters) + 1.8)),
        gridspec_kw={"width_ratios": [1, 1.2]},
    )
    fig.suptitle(f"Autograde: {n} student(s) graded", fontsize=14, fontweight="bold")
    bands = list(range(0, 101, 10))
    if totals:
        counts = [
            sum(1 for t in totals if lo <= t < hi or (hi == 100 and t == 100))
            for lo, hi in zip(bands[:-1], bands[1:])
        ]
        left.bar([lo + 5 for lo in bands[:-1]], counts, width=9, color="#4878a8")
        for x, c in zip(bands[:-1], counts):
            if c:
                left.text(x + 5, c, str(c), ha="center", va="bottom", fontsize=9)
    left.set_xticks(bands)
    left.set_xlim(0, 100)
    left.set_xlabel("total score (% of the points)")
    left.set_ylabel("students")
    left.set_title("Total score")
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    full = [sum(1 for p in per_chapter[c] if p >= 100) for c in chapters]
    zero = [sum(1 for p in per_chapter[c] if p <= 0) for c in chapters]
    part = [len(per_chapter[c]) - f - z for c, f, z in zip(chapters, full, zero)]
    ys = list(range(len(chapters)))[::-1]
    right.barh(ys, full, color="#4c9a5b", label="full marks")
    right.barh(ys, part, left=full, color="#e0b040", label="part of the points")
    right.barh(ys, zero, left=[f + p for f, p in zip(full, part)], color="#c8553d", label="zero")
    right.set_yticks(ys)
    right.set_yticklabels(chapters)
    right.set_xlabel("students")
    right.set_title("Per chapter")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=9, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
