"""The grader's structure: layers that import downwards only, no import cycle, no private name
used across modules, a command line that nothing imports, the instructor workflows in one
folder that the student release leaves out.

Imports are read from the source with ``ast``, function-level ones included (a cycle hidden
inside a function is still a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

GRADER = ROOT / "grader"
# The engine: what grading rests on. It imports nothing above it (runner, command line,
# notebook tools, workflows).
ENGINE = {
    "grader",
    "grader.worker",
    "grader.sandbox",
    "grader.isolation",
    "grader.oracle",
    "grader.check",
    "grader.plugin",
    "grader.api",
    "grader.report",
    "grader.chapters",
}
WORKFLOWS = "grader.workflows"


def module_name(path: Path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def grader_modules():
    """{module name: path} of every module of the grader package (suites included)."""
    return {module_name(p): p for p in sorted(GRADER.rglob("*.py")) if "__pycache__" not in p.parts}


def parse_imports(source, module, is_package=False, modules=()):
    """[(imported grader module, [names taken from it], line)] of every import statement in
    ``source`` (the text of ``module``), at any depth: module level, in functions, under ``if``.
    ``from . import x`` also counts as importing the submodule ``x`` when it is in ``modules``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                (a.name, [], node.lineno)
                for a in node.names
                if a.name == "grader" or a.name.startswith("grader.")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != "grader" and not target.startswith("grader."):
                continue
            names = [a.name for a in node.names]
            found.append((target, names, node.lineno))
            found += [
                (f"{target}.{n}", [], node.lineno) for n in names if f"{target}.{n}" in modules
            ]
    return found


def imports_of(path, modules):
    name = module_name(path)
    return parse_imports(path.read_text(), name, path.name == "__init__.py", modules)


def import_graph():
    modules = grader_modules()
    graph = {m: set() for m in modules}
    for m, path in modules.items():
        for target, _, _ in imports_of(path, modules):
            while target and target not in modules:  # `import grader.x.y` where y is a name in x
                target = target.rpartition(".")[0]
            if target and target != m:
                graph[m].add(target)
    return graph


def find_cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def private_uses(source, module, is_package=False, modules=()):
    """Private names (``_x``) of another grader module that ``source`` uses: imported by name,
    or read as an attribute of an imported grader module. [(line, "module._name")]."""
    found = []
    aliases = {}  # local name -> the grader module bound to it
    for target, names, line in parse_imports(source, module, is_package, modules):
        if target == module:
            continue
        found += [
            (line, f"{target}.{n}") for n in names if n.startswith("_") and not n.startswith("__")
        ]
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update(
                {a.asname: a.name for a in node.names if a.asname and a.name.startswith("grader.")}
            )
        elif isinstance(node, ast.ImportFrom):
            base = (
                package.split(".")[: len(package.split(".")) - (node.level - 1)]
                if node.level
                else []
            )
            target = ".".join(base + ([node.module] if node.module else []))
            aliases.update(
                {
                    a.asname or a.name: f"{target}.{a.name}"
                    for a in node.names
                    if f"{target}.{a.name}" in modules
                }
            )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != module
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return found


# ------------------------------------------------------------------- the checks check


def test_the_cycle_finder_sees_cycles_and_function_level_imports():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}) == [
        ["a", "b", "c"]
    ]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    source = "import os\n\ndef f():\n    from .y import z\n    if True:\n        import grader.w\n"
    found = [target for target, _, _ in parse_imports(source, "grader.x")]
    assert found == ["grader.y", "grader.w"]
    assert [t for t, _, _ in parse_imports("from ..runner import a", "grader.workflows.r")] == [
        "grader.runner"
    ]
    assert [
        t
        for t, _, _ in parse_imports(
            "from . import b", "grader.workflows", is_package=True, modules={"grader.workflows.b"}
        )
    ] == ["grader.workflows", "grader.workflows.b"]


def test_the_private_name_check_sees_imports_and_module_attributes():
    modules = {"grader.report", "grader.chapters", "grader.workflows.release"}
    source = (
        "from grader.chapters import _hidden, public\nfrom grader import report\n"
        "from grader.workflows import release as rel\n"
        "def f(handle):\n    report._pts(1)\n    rel._significant([])\n    handle._pool\n"
    )
    found = [name for _, name in private_uses(source, "tests.test_x", modules=modules)]
    assert found == [
        "grader.chapters._hidden",
        "grader.report._pts",
        "grader.workflows.release._significant",
    ]
    assert private_uses("from ._x import y\nfrom . import _z\n", "grader.a") == [(2, "grader._z")]


# ------------------------------------------------------------------------- the structure


def test_no_import_cycle_in_the_grader():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles in grader/ (function-level imports count): " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_nothing_imports_the_command_line():
    modules = grader_modules()
    paths = [
        *(p for m, p in modules.items() if m != "grader.__main__"),
        *sorted((ROOT / "tests").glob("*.py")),
        *sorted((ROOT / "benchmarks").glob("*.py")),
        ROOT / "noxfile.py",
    ]
    importers = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in paths
        for target, names, line in parse_imports(
            p.read_text(), module_name(p), p.name == "__init__.py", modules
        )
        if target == "grader.cli" or (target == "grader" and "cli" in names)
    ]
    assert not importers, f"only grader/__main__.py imports grader.cli: {importers}"


def test_the_engine_imports_nothing_above_it():
    graph = import_graph()
    wrong = [
        f"{m} -> {t}"
        for m in sorted(ENGINE & set(graph))
        for t in sorted(graph[m])
        if t not in ENGINE and not t.startswith("grader.suites")
    ]
    assert not wrong, f"engine modules importing the layers above them: {wrong}"


def test_only_the_command_line_and_the_workflows_import_the_workflows():
    graph = import_graph()
    wrong = [
        f"{m} -> {t}"
        for m, targets in sorted(graph.items())
        for t in sorted(targets)
        if t.startswith(WORKFLOWS) and not m.startswith(WORKFLOWS) and m != "grader.cli"
    ]
    assert not wrong, (
        f"grader/workflows/ is not in the student release; only the command line reaches it: {wrong}"
    )


@pytest.mark.parametrize("where", ["grader", "tests"])
def test_no_private_name_is_used_across_modules(where):
    modules = grader_modules()
    paths = list(modules.values()) if where == "grader" else sorted((ROOT / "tests").glob("*.py"))
    problems = [
        f"{path.relative_to(ROOT)}:{line} uses {name}"
        for path in paths
        for line, name in private_uses(
            path.read_text(), module_name(path), path.name == "__init__.py", modules
        )
    ]
    assert not problems, "private names used outside their module:\n" + "\n".join(problems)


def test_the_plugin_keeps_its_state_in_the_config_stash():
    tree = ast.parse((GRADER / "plugin.py").read_text())
    private_sets = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Attribute)
        and t.attr.startswith("_")
        and isinstance(t.value, ast.Name)
        and t.value.id == "config"
    ]
    assert not private_sets, (
        f"grader/plugin.py sets private attributes on pytest's config (lines {private_sets})"
    )
    assert "config.stash[STATE]" in (GRADER / "plugin.py").read_text()


def test_the_release_leaves_the_workflows_folder_out(tmp_path):
    from grader.chapters import all_chapters
    from grader.workflows import release

    assert not {p.stem for p in GRADER.glob("*.py")} & {
        "stubgen",
        "release",
        "autograde",
        "gradescope",
        "nbgrader",
    }, "instructor tools go in grader/workflows/"
    release.copy_public_grader(tmp_path / "all")
    shipped = {p.relative_to(tmp_path / "all").as_posix() for p in (tmp_path / "all").rglob("*.py")}
    assert {"runner.py", "cli.py", "notebook.py", "jupyter.py", "plugin.py"} <= shipped
    assert not [s for s in shipped if s.startswith("workflows/")]
    assert not [s for s in shipped if Path(s).name.startswith("test_hidden_")]
    assert all(any(s.startswith(f"suites/{c}/") for s in shipped) for c in all_chapters())
    first = all_chapters()[0]
    release.copy_public_grader(tmp_path / "one", [first])
    suites = {p.name for p in (tmp_path / "one" / "suites").iterdir() if p.name.startswith("ch")}
    assert suites == {first}
