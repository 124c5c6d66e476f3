"""Complete solutions, one package per chapter: the single source of ``exercises/``.

Code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by a TODO
and ``raise NotImplementedError(...)`` when the stubs are generated (``nox -s stubs``).
"""
