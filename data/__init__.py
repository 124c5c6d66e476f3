"""Datasets shipped with the course (see README.md for sources and licences)."""
