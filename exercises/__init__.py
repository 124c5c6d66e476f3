"""Your work: one package per chapter (chNN_*), generated from the course's solutions by
`nox -s stubs`. Fill in the functions that raise NotImplementedError; grade with `nox -s grade`."""
