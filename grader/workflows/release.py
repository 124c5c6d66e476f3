"""Build the student repository and prove it leaks nothing.

``python -m grader release --out DIR`` copies what students get (their README, the
noxfile, pyproject.toml, exercises/, data/, the public grader with fixtures recorded
from the reference, MNIST as arrays, a GitHub Classroom workflow), then checks DIR and fails
loudly if it holds solution markers or solution code (also renamed or reworded: the same
logic under other names, compared as normalized syntax trees), reference/ or solutions/,
hidden tests, the course secret, a text that names the instructor's commands or paths or
an absolute path, or the litter of a run, or if the student commands do not work there:
the stubs must grade to zero and the solutions, copied in, to full marks, in public mode.
Stubs lose the instructor's "Generated from solutions/..." header on the way.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tempfile
from pathlib import Path

from ..chapters import (
    IGNORED_PARTS,
    ROOT,
    SUITES,
    all_chapters,
    is_chapter_dir,
    is_hidden_test,
    tree_files,
)
from ..runner import UsageError, grade_subprocess, record_fixtures
from . import notebooks, stubgen

GRADER = ROOT / "grader"
WORKFLOWS = Path(__file__).resolve().parent  # this folder: never shipped to students


class ReleaseError(UsageError):
    pass


def copy_tree(src, dst, skip=None):
    """Copy the files under ``src`` to ``dst`` (tool litter left out, and files for which
    ``skip(path)`` is true)."""
    for path in tree_files(src):
        if skip and skip(path):
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def copy_public_grader(dst, chapters=None):
    """Copy the grader that students get into ``dst``: the engine, the runner, the notebook
    runtime, what the suites share and the suites of ``chapters`` (default: all), without the
    instructor workflows (this folder), the hidden tests and the fixtures (recorded apart)."""
    keep = set(all_chapters() if chapters is None else chapters)

    def skip(path):
        if WORKFLOWS in path.parents or is_hidden_test(path) or path.parent == GRADER / "fixtures":
            return True
        if SUITES not in path.parents:
            return False
        top = path.relative_to(SUITES).parts[0]  # a chapter's folder, or what the suites share
        return is_chapter_dir(top) and top not in keep

    copy_tree(GRADER, Path(dst), skip=skip)


def build(out: Path, *, force=False, log=print):
    out = Path(out).resolve()
    if (
        out == ROOT
        or ROOT in out.parents
        and out.parent == ROOT
        and out.name in ("exercises", "grader")
    ):
        raise ReleaseError(f"refusing to build the release into {out}")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty (use --force to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    problems = stubgen.check(ROOT / "solutions", ROOT / "exercises")
    if problems:
        raise ReleaseError("exercises/ is out of date with solutions/: run `nox -s stubs` first")

    shutil.copy2(ROOT / "docs" / "student-README.md", out / "README.md")
    for name in ("noxfile.py", "pyproject.toml", ".gitignore"):
        shutil.copy2(ROOT / name, out / name)
    copy_tree(ROOT / "exercises", out / "exercises")
    for path in sorted((out / "exercises").rglob("*.py")):
        path.write_text(student_stub_text(path.read_text(), path.relative_to(out / "exercises")))
    notebooks.write_student_notebooks(out / "notebooks")  # their solution cells stubbed out
    copy_tree(ROOT / "data", out / "data")
    add_mnist_arrays(out / "data")
    copy_public_grader(out / "grader")
    for name in STUDENT_DOCS:  # the chapter texts refer to them
        (out / "docs").mkdir(exist_ok=True)
        shutil.copy2(ROOT / "docs" / name, out / "docs" / name)
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    shutil.copy2(ROOT / "docs" / "classroom-workflow.yml", workflow)

    log("recording public fixtures from the reference ...")
    record_fixtures(all_chapters(), out / "grader" / "fixtures")
    return out


def add_mnist_arrays(data_dir):
    """Write MNIST as arrays into a copy of data/ (for the grader and the later chapters): the
    loader holds no IDX reader, since writing one is chapter 09's exercise (data/README.md)."""
    from data.loaders import MNIST_ARRAYS, write_mnist_arrays

    return write_mnist_arrays(Path(data_dir) / MNIST_ARRAYS.name)


STUDENT_INIT = (
    '"""Your work: one package per chapter (chNN_*). Fill in the functions that raise\n'
    "NotImplementedError, then grade them: `python3 -m nox -s grade` (one chapter: "
    '`python3 -m nox -s grade-02`)."""\n'
)


def student_stub_text(text, rel):
    """A stub as students get it: the instructor's header ("Generated from solutions/...")
    becomes a line that says what to do, and the package's docstring speaks to students."""
    rel = Path(rel)
    if rel.as_posix() == "__init__.py":
        return STUDENT_INIT
    first, _, rest = text.partition("\n")
    if first == stubgen.HEADER.format(path=rel.as_posix()).rstrip("\n"):
        number = rel.parts[0][2:4]
        return (
            f"# Chapter {number}: fill in the TODOs below, then grade the chapter with "
            f"`python3 -m nox -s grade-{number}`.\n{rest}"
        )
    return text


# ----------------------------------------------------------------------------- checks


def significant_lines(lines):
    """The lines that carry code: stripped, comments and blank lines dropped, runs of spaces
    made one (how a copy of solution code is recognised whatever its indentation)."""
    out = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            out.append(re.sub(r"\s+", " ", text))
    return out


def solution_blocks():
    """The code of every marked block in solutions/, as lists of significant lines."""
    blocks = []
    for path in sorted((ROOT / "solutions").rglob("*.py")):
        for lineno, lines in stubgen.marked_blocks(path.read_text().splitlines()):
            body = significant_lines(lines)
            if sum(len(x) for x in body) >= 30:
                blocks.append((f"{path.relative_to(ROOT)}:{lineno}", body))
    return blocks


def contains_run(haystack, needle):
    """True when the lines ``needle`` occur, consecutively, in ``haystack``."""
    n = len(needle)
    first = needle[0]
    for i, line in enumerate(haystack):
        if line == first and haystack[i : i + n] == needle:
            return True
    return False


# ------------------------------------------------------------- the same logic under other names

SHINGLE_NODES = 30  # the smallest piece of solution code searched for (AST nodes)


class _Canonical(ast.NodeTransformer):
    """Names (variables, arguments, functions) become v0, v1, ... in order of appearance and
    string constants one symbol, so that renamed or reworded copies compare equal."""

    def __init__(self):
        self.names = {}

    def _name(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=ast.Load()), node)

    def visit_arg(self, node):
        return ast.copy_location(ast.arg(arg=self._name(node.arg)), node)

    def visit_FunctionDef(self, node):
        node.name = self._name(node.name)
        node.body = _code_statements(node.body)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(value="<str>"), node)
        return node

    def visit_JoinedStr(self, node):
        return ast.copy_location(ast.Constant(value="<str>"), node)


def _code_statements(body):
    """A statement list without its docstrings and other bare strings."""
    return [
        st
        for st in body
        if not (
            isinstance(st, ast.Expr)
            and isinstance(st.value, ast.Constant)
            and isinstance(st.value.value, str)
        )
    ]


def _canonical(statements):
    import copy

    canonical = _Canonical()
    return [canonical.visit(copy.deepcopy(st)) for st in statements]


def normalized(statements):
    """One string for a run of statements, equal for copies that differ in names, strings,
    comments, docstrings and layout."""
    parts = _canonical(statements)
    return "\n".join(ast.dump(p, annotate_fields=False, include_attributes=False) for p in parts)


def _size(statements):
    """AST nodes of a run of statements once normalized (a long message counts as one)."""
    return sum(1 for st in _canonical(statements) for _ in ast.walk(st))


def _statement_lists(tree):
    """Every list of statements in a module (the module's, each body, else and handler)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield _code_statements(body)
        for handler in getattr(node, "handlers", []) or []:
            yield _code_statements(handler.body)


def solution_shingles():
    """{normalized first statement: [(normalized run, length, where)]}: every shortest run of
    statements of at least SHINGLE_NODES nodes inside a marked block of solutions/."""
    index = {}
    for path in sorted((ROOT / "solutions").rglob("*.py")):
        text = path.read_text()
        blocks = stubgen.marked_blocks(text.splitlines())
        if not blocks:
            continue
        tree = ast.parse(text)
        spans = [(begin, begin + len(lines)) for begin, lines in blocks]  # BEGIN's line, END's
        for body in _statement_lists(tree):
            inside = [
                st for st in body if any(b < st.lineno and st.end_lineno <= e for b, e in spans)
            ]
            for i in range(len(inside)):
                for j in range(i + 1, len(inside) + 1):
                    run = inside[i:j]
                    if _size(run) < SHINGLE_NODES:
                        continue
                    where = f"{path.relative_to(ROOT).as_posix()}:{run[0].lineno}"
                    index.setdefault(normalized(run[:1]), []).append(
                        (normalized(run), len(run), where)
                    )
                    break
    return index


# Known overlaps between shipped code and solution code, each with the reason it ships (the
# check reports any other). Keys: (file in the release, solution file).
ACCEPTED_OVERLAPS = {
    ("exercises/ch11_recurrent/rnn.py", "solutions/ch11_recurrent/lstm.py"): (
        "the given constructor zeroes the gradients with the line LSTM.backward starts with"
    ),
    ("exercises/ch11_recurrent/lstm.py", "solutions/ch11_recurrent/lstm.py"): (
        "the given constructor zeroes the gradients with the line LSTM.backward starts with"
    ),
    ("exercises/ch11_recurrent/stack.py", "solutions/ch01_neurons/dense.py"): (
        "TimeDense's given constructor draws its weights as chapter 01's Dense.__init__ does"
    ),
    ("grader/suites/ch11_recurrent/test_char_model.py", "solutions/ch13_generative/unet.py"): (
        "the grader scores the character model with a log-softmax cross-entropy of its own"
    ),
    ("grader/suites/ch14_transfer/cases.py", "solutions/ch14_transfer/style.py"): (
        "the grader measures the style loss of the student's image with Gram matrices of its "
        "own (the docstring of gram gives the formula too)"
    ),
}


def same_logic(text, shingles):
    """The places of solutions/ whose marked code ``text`` (Python source) holds, renamed or
    not: [(line in text, where in solutions/)]."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found = []
    for body in _statement_lists(tree):
        for i, st in enumerate(body):
            candidates = shingles.get(normalized([st]))
            if not candidates:
                continue
            for run, length, where in candidates:
                if i + length <= len(body) and normalized(body[i : i + length]) == run:
                    found.append((st.lineno, where))
                    break
    return found


# Texts students read: no command or path of the instructor's repository, no absolute path.
STUDENT_TEXTS = ("README.md", "exercises", "notebooks", "data", ".github")
INSTRUCTOR_MENTION = re.compile(
    r"\b(?:solutions|reference)(?:/|\.(?=[A-Za-z_]))|--submission solutions|--mode hidden"
)
ABSOLUTE_PATH = re.compile(r"(?<![\w.~/])(?:/(?:work|home|Users|root|tmp|mnt|srv)/|[A-Z]:\\\w)")


# Documents of docs/ that the chapter texts refer to, shipped with the release.
STUDENT_DOCS = ("conventions.md", "benchmarks.md")
# Paths of the instructor's repository a student text might name; each must be in the release.
COURSE_PATH = re.compile(r"(?<![\w./-])((?:docs|benchmarks|tests)/[\w./-]*\w)")


def missing_paths(out, rel, text):
    """Paths of docs/, benchmarks/ or tests/ that a student text names but the release lacks."""
    if rel.split("/", 1)[0] not in STUDENT_TEXTS:
        return []
    missing = sorted({m.group(1) for m in COURSE_PATH.finditer(text)})
    return [
        f"{rel} names {p}, which is not in the release"
        for p in missing
        if not (Path(out) / p).exists()
    ]


def text_problems(rel, text):
    """Mentions a student cannot follow in one text file of the release (``rel`` its path)."""
    problems = []
    if str(ROOT) in text:
        problems.append(f"{rel} contains the path of the instructor's repository")
    top = rel.split("/", 1)[0]
    if top not in STUDENT_TEXTS or (top == "data" and not rel.endswith(".md")):
        return problems  # data/'s code may name the instructor's side (loaders.py's fallback)
    for lineno, line in enumerate(text.splitlines(), 1):
        m = INSTRUCTOR_MENTION.search(line)
        if m:
            problems.append(f"{rel}:{lineno} mentions {m.group(0)!r} (not in the release)")
        m = ABSOLUTE_PATH.search(line)
        if m:
            problems.append(f"{rel}:{lineno} contains an absolute path ({m.group(0)}...)")
    return problems


def check_contents(out: Path, secret=None):
    """Problems that make DIR unfit to give to students (empty list when it is fine)."""
    out = Path(out)
    problems = []
    for name in ("solutions", "reference", ".course-secret"):
        if any(p.name == name for p in out.rglob(name)):
            problems.append(f"{name} is in the release")
    for name in sorted(IGNORED_PARTS):
        if any(out.rglob(name)):
            problems.append(f"{name}/ is in the release (litter of a run, not course material)")
    if (out / "grader" / WORKFLOWS.name).exists():
        problems.append(f"the instructor workflows (grader/{WORKFLOWS.name}/) are in the release")
    texts, sources = {}, {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if secret and secret.encode() in data:
            problems.append(f"{rel} contains the course secret")
        if is_hidden_test(path):
            problems.append(f"{rel} is a hidden test")
        try:
            text = data.decode()
        except UnicodeDecodeError:
            continue
        if stubgen.has_markers(text):
            problems.append(f"{rel} contains solution markers")
        problems += text_problems(rel, text) + missing_paths(out, rel, text)
        if path.suffix == ".py":
            texts[rel] = significant_lines(text.splitlines())
            sources[rel] = text
            if rel.startswith("grader/suites/") and re.search(
                r"(@hidden\b|mark\.hidden|= *hidden\b)", text
            ):
                problems.append(f"{rel} contains a hidden test")
    for where, body in solution_blocks():
        for rel, lines in texts.items():
            if contains_run(lines, body):
                problems.append(f"{rel} contains the solution code of {where}")
                break
    shingles = solution_shingles()
    for rel, text in sources.items():
        for lineno, where in same_logic(text, shingles):
            if (rel, where.split(":")[0]) not in ACCEPTED_OVERLAPS:
                problems.append(f"{rel}:{lineno} holds the logic of the solution at {where}")
    return problems


def _grade_in(out, submission, results):
    proc = grade_subprocess([], submission, results=results, cwd=out, timeout=1800)
    if proc.returncode != 0 or not Path(results).is_file():
        raise ReleaseError(f"grading inside the release failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(Path(results).read_text())


def remove_litter(out: Path):
    """Remove what runs leave in DIR (__pycache__/, .hypothesis/, ...): not course material."""
    for name in sorted(IGNORED_PARTS):
        for path in sorted(Path(out).rglob(name), reverse=True):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def check_works(out: Path, log=print):
    """The student commands work in DIR: stubs grade to zero, solutions to full marks, public
    mode. What the grading runs leave in DIR is removed afterwards."""
    try:
        return _check_works(Path(out), log)
    finally:
        remove_litter(out)


def _check_works(out: Path, log=print):
    problems = []
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        tmp = Path(tmp)
        log("grading the stubs inside the release ...")
        stubs = _grade_in(out, out / "exercises", tmp / "stubs.json")
        mode = stubs["extra_data"]["mode"]
        if mode != "public":
            problems.append(f"the release grades in {mode} mode, expected public")
        if stubs["score"] != 0 or stubs["max_score"] <= 0:
            problems.append(
                f"the stubs score {stubs['score']}/{stubs['max_score']} in the release, expected 0"
            )
        log("grading the solutions, copied into the release, ...")
        copy_tree(ROOT / "solutions", tmp / "solutions")
        full = _grade_in(out, tmp / "solutions", tmp / "full.json")
        if full["score"] != full["max_score"] or full["max_score"] <= 0:
            bad = [t["name"] for t in full["tests"] if t["status"] != "passed"][:5]
            problems.append(
                f"the solutions score {full['score']}/{full['max_score']} in the release: {bad}"
            )
        if full["max_score"] != stubs["max_score"]:
            problems.append("stubs and solutions were graded on different tests")
    return problems
