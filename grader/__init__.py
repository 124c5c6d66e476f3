"""The course's grading engine: pytest suites per chapter, student code in a sandboxed worker."""
