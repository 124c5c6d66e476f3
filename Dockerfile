# syntax=docker/dockerfile:1
# The grader in a container: one image for Gradescope's manual Docker configuration,
# PrairieLearn's external grader and Kubernetes (or any job array). See docs/scale.md for the
# entry points and the resources to give each chapter. Build from the repository's root:
#
#   docker build -t nn-course-grader .
#   docker build --secret id=course_secret,src=.course-secret -t nn-course-grader .  # secret inside
#
# Without the build secret, pass it at run time: -e COURSE_SECRET=... (PrairieLearn: the
# question's externalGradingOptions.environment; Kubernetes: a Secret as an environment variable).
# The image holds the reference and the solutions: push it to a private registry only.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# The sandbox for student code (docs/sandbox.md): bubblewrap, and setpriv from util-linux.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap util-linux \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/course
# The grading dependencies, read from pyproject.toml's `grade` group (pip 25.1 or newer).
COPY pyproject.toml ./
RUN python3 -m pip install --no-cache-dir "pip>=25.1" \
    && python3 -m pip install --no-cache-dir --group grade

COPY grader/ grader/
COPY reference/ reference/
COPY solutions/ solutions/
COPY exercises/ exercises/
COPY data/ data/

# The course's files readable by root only: where the container forbids namespaces, student
# code runs under another user id (the `user` level) that cannot read them.
RUN --mount=type=secret,id=course_secret \
    if [ -f /run/secrets/course_secret ]; then cp /run/secrets/course_secret .course-secret; fi \
    && chmod -R go-rwx /opt/course \
    && printf '#!/bin/sh\ncd /opt/course && exec python3 -m grader prairielearn "$@"\n' \
        > /usr/local/bin/grade-prairielearn \
    && mkdir -p /autograder \
    && printf '#!/bin/sh\ncd /opt/course && exec python3 -m grader gradescope-run --autograder-root /autograder "$@"\n' \
        > /autograder/run_autograder \
    && chmod 755 /usr/local/bin/grade-prairielearn /autograder/run_autograder

# Kubernetes / job arrays: python3 -m grader autograde SUBMISSIONS --out OUT --shard I/N
ENTRYPOINT ["python3", "-m", "grader"]
CMD ["--help"]
