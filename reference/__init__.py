"""The reference implementation: the grader's oracle (hidden, never shipped to students).

Written separately from ``solutions/`` and for clarity rather than speed: plain
functions on float64 arrays, no state, no classes. Each chapter package mirrors the
chapter of the same name in ``exercises/`` and ``solutions/``.
"""
