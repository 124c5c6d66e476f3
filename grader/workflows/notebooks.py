"""The chapter notebooks from the instructor's side: the shape every notebook must have, and
the student copy of a notebook (solution blocks stubbed out) that the release ships.

A chapter notebook's first code cell calls ``setup("chNN")``, its last ends with
``grade_cell("chNN")``, and its exercise cells hold solution blocks between the course's
solution markers (``grader.workflows.stubgen.MARKER``).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..chapters import chapter_id
from ..jupyter import chapter_notebooks, split_cells
from .stubgen import MARKER

GRADE_CALL = re.compile(
    r"""^grade_cell\(\s*["'](ch\d\d)["']\s*(?:,\s*points\s*=\s*[\d.]+\s*)?\)\s*$"""
)
SETUP_CALL = re.compile(r"""^setup\(\s*["'](ch\d\d)["']\s*\)\s*$""", re.M)


def notebook_problems(path, package):
    """What is wrong with a chapter notebook's structure (empty list when it is fine)."""
    text = Path(path).read_text()
    cells = split_cells(text)
    code = [(h, s) for k, h, s in cells if k == "code" and s.strip()]
    problems = []
    cid = chapter_id(package)
    if not code:
        return [f"{path.name}: no code cell"]
    if not any(m == cid for m in SETUP_CALL.findall(code[0][1])):
        problems.append(f"{path.name}: the first code cell must call setup({cid!r})")
    grade_cells = [s for _, s in code if "grade_cell(" in s]
    last = code[-1][1].strip().splitlines()
    call = GRADE_CALL.match(last[-1]) if last else None
    if len(grade_cells) != 1 or not call or call.group(1) != cid:
        problems.append(
            f"{path.name}: the last code cell must end with grade_cell({cid!r}), and no other cell "
            "may call grade_cell"
        )
    for _, source in code:
        depth = 0
        for line in source.splitlines():
            m = MARKER.match(line)
            if m:
                depth += 1 if m.group(2) == "BEGIN" else -1
                if depth not in (0, 1):
                    problems.append(f"{path.name}: unbalanced solution markers")
                    break
        if depth:
            problems.append(f"{path.name}: a BEGIN SOLUTION without its END")
    if "grade_cell(" in code[0][1] or any(MARKER.match(ln) for ln in code[-1][1].splitlines()):
        problems.append(f"{path.name}: the setup and grade cells cannot hold solutions")
    return problems


def student_text(text, chapter):
    """A notebook's text with every solution block replaced by a stub (for a student copy)."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        m = MARKER.match(line)
        if m and m.group(2) == "BEGIN":
            inside = True
            indent = m.group(1)
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(
                f'{indent}raise NotImplementedError("{chapter}: the exercise of this notebook cell")\n'
            )
        elif m:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def write_student_notebooks(out_dir, chapters=None):
    """Copy the chapter notebooks with their solution blocks stubbed out (for the student release)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for package, path in chapter_notebooks().items():
        if chapters and package not in chapters:
            continue
        target = out_dir / path.name
        target.write_text(student_text(path.read_text(), chapter_id(package)))
        written.append(target)
    return written
