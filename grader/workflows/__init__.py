"""Instructor workflows: everything that needs the solutions, the reference or the course
secret, and that students never run. The student release leaves this folder out as a whole.

- ``stubgen``: exercises/ from solutions/ (the solution markers);
- ``fixtures``: record the reference's values for public mode;
- ``release``: build the student repository and prove it leaks nothing;
- ``autograde``: grade a folder of submissions into a gradebook, a slice of it (``--shard``),
  and ``merge`` the slices into one gradebook;
- ``gradescope``: the Gradescope autograder bundle, and its run inside Gradescope;
- ``prairielearn``: PrairieLearn's external grader (``/grade`` in, ``/grade/results`` out);
- ``notebooks``: student copies and structure checks of the chapter notebooks;
- ``nbgrader``: the nbgrader course built from the repository, and its checks
  (``python -m grader.workflows.nbgrader``).

These modules use the runner and the engine below them; nothing below imports them.
"""
