"""The course's layout: which chapters exist, how to name them, which folders to ignore.

The one chapter list of the course (the noxfile reads it from here): a chapter is a folder
``grader/suites/chNN_name`` holding its grader suite. A chapter can be named ``ch02``, ``2``,
``02`` or ``ch02_activations``.

This module imports nothing from the grader (the noxfile loads it by its path, in an
environment that may have neither numpy nor pytest).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = Path(__file__).resolve().parent / "suites"
# The name of a chapter's package, in suites/, exercises/, solutions/, reference/ and a submission.
CHAPTER_DIR = re.compile(r"^ch(\d\d)_[a-z0-9_]+$")
# Folders that tools create and that nothing copies, hashes, grades or ships.
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"})
IGNORED_SUFFIXES = frozenset({".pyc"})
# Hidden tests (instructor mode only) live in suite files named test_hidden_*.py; the student
# release leaves those files out.
HIDDEN_PREFIX = "test_hidden_"


class ChapterError(ValueError):
    pass


def is_chapter_dir(name):
    """True for a chapter package's folder name (``ch02_activations``)."""
    return CHAPTER_DIR.match(name) is not None


def is_ignored(rel_path):
    """True when a path (relative to the tree being walked) is tool litter: a file in one
    of IGNORED_PARTS, or compiled bytecode."""
    rel_path = Path(rel_path)
    return not IGNORED_PARTS.isdisjoint(rel_path.parts) or rel_path.suffix in IGNORED_SUFFIXES


def is_hidden_test(path):
    """True for a hidden test file (``test_hidden_*.py``)."""
    name = Path(path).name
    return name.startswith(HIDDEN_PREFIX) and name.endswith(".py")


def tree_files(root):
    """Every file under ``root`` that is not tool litter, sorted (symbolic links included)."""
    root = Path(root)
    return [
        p for p in sorted(root.rglob("*")) if p.is_file() and not is_ignored(p.relative_to(root))
    ]


def all_chapters():
    """Package names of the chapters that have a grader suite, in order."""
    if not SUITES.is_dir():
        return []
    return sorted(p.name for p in SUITES.iterdir() if p.is_dir() and is_chapter_dir(p.name))


def chapter_id(package):
    """'ch02_activations' -> 'ch02'."""
    return package[:4]


def chapters_up_to(package, chapters=None):
    """The chapters up to and including ``package`` (what it builds on)."""
    return [c for c in (all_chapters() if chapters is None else chapters) if c[:4] <= package[:4]]


def resolve(names):
    """Turn user-given chapter names into package names; [] means all chapters."""
    chapters = all_chapters()
    if not names:
        return chapters
    by_number = {int(c[2:4]): c for c in chapters}
    out = []
    for name in names:
        text = str(name).strip().lower()
        m = re.fullmatch(r"(?:ch)?(\d{1,2})(?:_[a-z0-9_]*)?", text)
        if not m or int(m.group(1)) not in by_number:
            known = ", ".join(chapter_id(c) for c in chapters)
            raise ChapterError(f"unknown chapter {name!r} (chapters with a grader suite: {known})")
        package = by_number[int(m.group(1))]
        if package not in out:
            out.append(package)
    return out
