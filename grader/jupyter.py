"""Chapter notebooks as files: find them, convert them, run them, read their grade cell.

The notebooks live in ``notebooks/chNN_name.py`` (jupytext percent format, committed without
outputs). ``python -m grader.jupyter convert`` (``nox -s notebooks``) writes the ``.ipynb``
files students open::

    python -m grader.jupyter convert [NOTEBOOK ...] [--out build/notebooks] [--execute] [--submission DIR]

Conversion needs jupytext, execution nbclient (the ``nbgrader`` dependency group); this
module imports them only when asked, so it ships with the release like the rest of the
public grader.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .chapters import ROOT, is_chapter_dir
from .notebook import ENV_SUBMISSION

NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 300  # nbgrader's per-cell limit (Execute.timeout), above the grading run's


def chapter_notebooks(directory=None):
    """{package: path} of the chapter notebooks in notebooks/ (one .py file per chapter)."""
    directory = Path(directory or NOTEBOOKS)
    found = {}
    for path in sorted(directory.glob("ch*.py")) if directory.is_dir() else []:
        if is_chapter_dir(path.stem):  # notebooks/<chapter package>.py
            found[path.stem] = path
    return found


def split_cells(text):
    """Cells of a percent-format file: [(kind, header, source)], kind 'markdown' or 'code'.
    Enough for the checks here; conversion to .ipynb is jupytext's job."""
    cells, kind, header, buf = [], None, "", []
    for line in text.splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                cells.append((kind, header, "\n".join(buf).strip("\n")))
            header = line
            kind = "markdown" if "[markdown]" in line else "code"
            buf = []
        elif kind is not None:
            buf.append(line)
    if kind is not None:
        cells.append((kind, header, "\n".join(buf).strip("\n")))
    return cells


def _read_percent(path):
    import jupytext

    nb = jupytext.read(str(path), fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def to_notebook(path):
    """The plain .ipynb (nbformat NotebookNode, no outputs) of a percent-format notebook."""
    nb = _read_percent(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def write_ipynb(nb, target):
    import nbformat

    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    target.write_text(text if text.endswith("\n") else text + "\n")


def convert(paths, out_dir, *, force=False, log=print):
    """Convert percent-format notebooks to .ipynb in ``out_dir``; never overwrite one that
    exists (it may hold a student's work) unless ``force``."""
    written = []
    for path in paths:
        path = Path(path)
        target = Path(out_dir) / (path.stem + ".ipynb")
        if target.exists() and not force:
            log(f"kept {target} (exists; --force replaces it)")
            written.append(target)
            continue
        write_ipynb(to_notebook(path), target)
        log(f"wrote {target}")
        written.append(target)
    return written


def execute(ipynb, *, submission=None, timeout=CELL_TIMEOUT, allow_errors=True):
    """Run a converted notebook in place (its folder as working directory) with nbclient;
    ``submission``: the folder to import ``exercises`` from. Returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(ipynb), as_version=4)
    old = os.environ.get(ENV_SUBMISSION)
    if submission:
        os.environ[ENV_SUBMISSION] = str(Path(submission).resolve())
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(Path(ipynb).resolve().parent)}},
        )
        client.execute()
    finally:
        if old is None:
            os.environ.pop(ENV_SUBMISSION, None)
        else:
            os.environ[ENV_SUBMISSION] = old
    nbformat.write(nb, str(ipynb))
    return nb


def grade_output(nb):
    """(score or None, errors, stderr texts) of a notebook's grade cell, from its outputs."""
    cells = [
        c for c in nb["cells"] if c["cell_type"] == "code" and "grade_cell(" in "".join(c["source"])
    ]
    if not cells:
        return None, ["no grade cell"], []
    cell = cells[-1]
    score, errors, stderr = None, [], []
    for out in cell.get("outputs", []):
        if out["output_type"] == "error":
            errors.append(f"{out.get('ename')}: {out.get('evalue')}")
        elif out["output_type"] == "stream" and out.get("name") == "stderr":
            stderr.append("".join(out.get("text", "")))
        elif out["output_type"] == "execute_result":
            text = out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            try:
                score = float(text)
            except ValueError:
                errors.append(f"the grade cell's result {text!r} is not a number")
    return score, errors, stderr


# ========================================================================== command line


def _cmd_convert(args):
    notebooks = chapter_notebooks()
    if args.notebooks:
        paths = [Path(p) for p in args.notebooks]
    else:
        paths = list(notebooks.values())
    out = Path(args.out)
    targets = convert(paths, out, force=args.force or args.execute)
    if args.execute:
        failures = 0
        for target in targets:
            print(f"executing {target} ...", flush=True)
            nb = execute(target, submission=args.submission)
            score, errors, stderr = grade_output(nb)
            cell_errors = [
                f"{o.get('ename')}: {o.get('evalue')}"
                for c in nb.cells
                if c.cell_type == "code"
                for o in c.get("outputs", [])
                if o.get("output_type") == "error"
            ]
            print(
                f"  grade cell: {score if score is not None else 'no score'}"
                + (f"; grade cell errors: {errors}" if errors else "")
                + ("; stderr in grade cell" if stderr else "")
                + (
                    f"; {len(cell_errors)} cell(s) raised ({cell_errors[0]} ...)"
                    if cell_errors
                    else ""
                )
            )
            failures += bool(errors or stderr or score is None)
        return 1 if failures else 0
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m grader.jupyter", description="The chapter notebooks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="notebooks/*.py (jupytext percent) to .ipynb")
    c.add_argument(
        "notebooks", nargs="*", help="percent-format files (default: every chapter notebook)"
    )
    c.add_argument("--out", default=str(ROOT / "build" / "notebooks"))
    c.add_argument("--force", action="store_true", help="replace existing .ipynb files")
    c.add_argument("--execute", action="store_true", help="run them too (implies --force)")
    c.add_argument(
        "--submission", help="import exercises from this folder when executing (e.g. solutions)"
    )
    c.set_defaults(func=_cmd_convert)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ImportError as exc:
        print(
            f"grader.jupyter: {exc} (install the notebook tools: nox -s notebooks)", file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
