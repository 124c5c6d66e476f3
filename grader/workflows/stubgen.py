"""Generate ``exercises/`` from ``solutions/``: every marked block becomes a TODO.

In a solution file, the code a student writes sits between two marker lines::

    def forward(self, inputs):
        ### BEGIN SOLUTION
        self.output = np.maximum(0, inputs)
        return self.output
        ### END SOLUTION

and the stub gets, at the same indentation::

        # TODO(ch02): implement ReLU.forward (see the docstring for the shapes).
        raise NotImplementedError("ch02: implement ReLU.forward")

Files without markers (the chapter text, labs) are copied as they are. ``--check``
reports any difference between ``exercises/`` and what this would generate.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from ..chapters import ROOT, tree_files
from ..worker import stub_fingerprint

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HEADER = "# Generated from solutions/{path} by `nox -s stubs`: fill in the TODOs below.\n"
# The top-level package of exercises/ gets its own docstring (the solutions' one is for instructors).
ROOT_INIT = '''"""Your work: one package per chapter (chNN_*), generated from the course's solutions by
`nox -s stubs`. Fill in the functions that raise NotImplementedError; grade with `nox -s grade`."""
'''
# Every TODO function of the generated stubs, with a fingerprint of its stub (the grader
# skips a chapter whose TODOs are all untouched, see grader/plugin.py): beside exercises/,
# in grader/todo.json.
TODO_FILE = ROOT / "grader" / "todo.json"
TASK = re.compile(r"^(ch\d\d): implement ([\w.]+)$")
# The one solution-marker pattern of the course (solutions/, notebooks/, release checks).
MARKER = re.compile(r"^(\s*)### (BEGIN|END) SOLUTION\s*$")


class StubError(ValueError):
    pass


def has_markers(text):
    """True when a line of ``text`` is a solution marker."""
    return any(MARKER.match(line) for line in text.splitlines())


def _enclosing_functions(source, filename):
    """Map each line number to the qualified name of the innermost def around it."""
    tree = ast.parse(source, filename=filename)
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def stub_source(source, chapter, rel_path):
    """The stub text for one solution file."""
    lines = source.splitlines(keepends=True)
    spans = _enclosing_functions(source, rel_path)
    out = [HEADER.format(path=rel_path)]
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        if m.group(2) != "BEGIN":
            raise StubError(f"{rel_path}:{i + 1}: END SOLUTION without BEGIN")
        indent = m.group(1)
        lineno = i + 1
        inside = [s for s in spans if s[0] < lineno <= s[1]]
        if not inside:
            raise StubError(f"{rel_path}:{lineno}: a solution block must sit inside a function")
        name = min(inside, key=lambda s: s[1] - s[0])[2]
        j = i + 1
        while j < len(lines) and not MARKER.match(lines[j]):
            j += 1
        if j == len(lines) or MARKER.match(lines[j]).group(2) != "END":
            raise StubError(f"{rel_path}:{lineno}: BEGIN SOLUTION without a matching END")
        task = f"{chapter}: implement {name}"
        out.append(
            f"{indent}# TODO({chapter}): implement {name} (the docstring gives the shapes).\n"
        )
        out.append(f'{indent}raise NotImplementedError("{task}")\n')
        i = j + 1
    text = "".join(out)
    if has_markers(text):
        raise StubError(f"{rel_path}: a solution marker is left in the stub")
    compile(text, rel_path, "exec")
    return text


def marked_blocks(lines):
    """The solution blocks of ``lines``: [(line number of BEGIN, [lines inside])], in order."""
    blocks = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m and m.group(2) == "BEGIN":
            j = i + 1
            while j < len(lines) and not MARKER.match(lines[j]):
                j += 1
            blocks.append((i + 1, list(lines[i + 1 : j])))
            i = j
        i += 1
    return blocks


def _files(root):
    return tree_files(root) if root.exists() else []


def generate(solutions: Path, exercises: Path):
    """{relative path: bytes} of the exercises tree that ``solutions`` generates."""
    result = {}
    for path in _files(solutions):
        rel = path.relative_to(solutions).as_posix()
        if rel == "__init__.py":
            result[rel] = ROOT_INIT.encode()
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        if path.suffix == ".py" and has_markers(text):
            chapter = rel.split("/")[0][:4] if rel.startswith("ch") else "course"
            data = stub_source(text, chapter, rel).encode()
        elif has_markers(text):
            raise StubError(f"{rel}: solution markers are only allowed in .py files")
        result[rel] = data
    return result


def todo_manifest(generated):
    """The text of grader/todo.json for the exercises tree ``generated`` ({path: bytes}):
    {chapter package: [[module, qualname, fingerprint], ...]} for every function whose stub
    raises its "chNN: implement NAME" NotImplementedError, in file and line order."""
    chapters = {}
    for rel in sorted(generated):
        parts = rel.split("/")
        if not rel.endswith(".py") or len(parts) < 2 or not parts[0].startswith("ch"):
            continue
        text = generated[rel].decode("utf-8")
        if "NotImplementedError" not in text:
            continue
        module = ".".join(parts[1:])[: -len(".py")]
        module = "" if module == "__init__" else module.removesuffix(".__init__")
        for qualname, node in _functions(ast.parse(text)):
            if any(raises_task(n, qualname) for n in ast.walk(node)):
                chapters.setdefault(parts[0], []).append([module, qualname, stub_fingerprint(node)])
    return json.dumps(chapters, indent=1, sort_keys=True) + "\n"


def _todo_file(exercises):
    return Path(exercises).parent / "grader" / "todo.json"


def _functions(tree, prefix=""):
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{child.name}", child


def raises_task(node, qualname=None):
    """Is ``node`` a stub's TODO, ``raise NotImplementedError("chNN: implement NAME")`` (NAME
    being ``qualname`` when given)?"""
    if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
        return False
    if getattr(node.exc.func, "id", None) != "NotImplementedError":
        return False
    args = node.exc.args
    if not (args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
        return False
    m = TASK.match(args[0].value)
    return m is not None and (qualname is None or m.group(2) == qualname)


def write(solutions: Path, exercises: Path):
    """Make ``exercises`` what ``solutions`` generates, touching only the files that differ;
    return the relative paths written or removed (empty when it was already up to date)."""
    wanted = generate(solutions, exercises)
    exercises.mkdir(exist_ok=True)
    changed = []
    for rel, data in wanted.items():
        target = exercises / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            changed.append(rel)
    for path in _files(exercises):
        rel = path.relative_to(exercises).as_posix()
        if rel not in wanted:
            path.unlink()
            changed.append(rel)
    manifest, todo_file = todo_manifest(wanted), _todo_file(exercises)
    if not todo_file.is_file() or todo_file.read_text() != manifest:
        todo_file.parent.mkdir(parents=True, exist_ok=True)
        todo_file.write_text(manifest)
        changed.append("../grader/todo.json")
    return sorted(changed)


def check(solutions: Path, exercises: Path):
    """A list of problems (empty when exercises/ is what the generator makes)."""
    wanted = generate(solutions, exercises)
    problems = []
    have = (
        {p.relative_to(exercises).as_posix() for p in _files(exercises)}
        if exercises.exists()
        else set()
    )
    for rel, data in wanted.items():
        target = exercises / rel
        if rel not in have:
            problems.append(f"missing: exercises/{rel}")
        elif target.read_bytes() != data:
            problems.append(f"out of date: exercises/{rel}")
    for rel in sorted(have - set(wanted)):
        problems.append(f"not generated from solutions/: exercises/{rel}")
    todo_file = _todo_file(exercises)
    if not todo_file.is_file() or todo_file.read_text() != todo_manifest(wanted):
        problems.append("out of date: grader/todo.json")
    return problems
