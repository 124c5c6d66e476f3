"""Which chapters exist and how to name them (``ch02``, ``2``, ``02`` or ``ch02_activations``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = Path(__file__).resolve().parent / "suites"
CHAPTER_DIR = re.compile(r"^ch(\d\d)_[a-z0-9_]+$")


class ChapterError(ValueError):
    pass


def all_chapters():
    """Package names of the chapters that have a grader suite, in order."""
    return sorted(p.name for p in SUITES.iterdir() if p.is_dir() and CHAPTER_DIR.match(p.name))


def chapter_id(package):
    """'ch02_activations' -> 'ch02'."""
    return package[:4]


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
