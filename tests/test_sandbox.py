"""Student code that cheats or crashes neither crashes the grader nor gains points.

Each test builds a submission from solutions/ with one chapter broken in a hostile way,
grades it, and checks that the broken part scores what it earned (zero for the tests
it breaks), that the grader exits cleanly, and that the other chapters are still graded.
"""

import json

import pytest

from tests.helpers import by_test, chapter_score, copy_solutions, grade, patch

NEURON = "ch01_neurons/neuron.py"
DENSE = "ch01_neurons/dense.py"
MATMUL_BODY = "    k = len(b)\n"


@pytest.fixture
def submission(tmp_path):
    return copy_solutions(tmp_path / "submission")


def _grade_two(root):
    """Grade ch01 (broken) and ch02 (intact, but it imports ch01)."""
    code, results, out = grade(root, "ch01", "ch02")
    assert code == 0, out
    assert results is not None, out
    return results


def test_sys_exit_at_import_zeroes_that_chapter_only(submission):
    patch(submission, NEURON, '"""One neuron', 'import sys\nsys.exit(3)\n"""One neuron')
    code, results, out = grade(submission, "ch01")
    assert code == 0, out
    assert results["score"] == 0 and results["max_score"] > 0
    assert all("could not import" in t["output"] for t in results["tests"]), results["tests"][0]


def test_syntax_error_is_reported_with_file_and_line(submission):
    patch(submission, DENSE, "import numpy as np", "import numpy as np\ndef broken(:\n    pass")
    code, results, out = grade(submission, "ch01")
    assert code == 0, out
    assert results["score"] == 0
    first = results["tests"][0]["output"]
    assert "SyntaxError" in first and "ch01_neurons/dense.py" in first, first


def test_os_exit_in_one_function_costs_only_its_tests(submission):
    patch(submission, NEURON, MATMUL_BODY, "    import os\n    os._exit(0)\n" + MATMUL_BODY)
    results = _grade_two(submission)
    tests = by_test(results)
    matmul = tests["test_matmul_matches_numpy"]
    assert all(t["status"] == "failed" for t in matmul)
    assert "ended the worker process" in matmul[0]["output"]
    assert all(t["status"] == "passed" for t in tests["test_dense_forward_matches_reference"])
    assert all(t["status"] == "passed" for t in tests["test_neuron_output_matches_reference"])


def test_infinite_loop_is_stopped_and_reported(submission):
    patch(submission, NEURON, MATMUL_BODY, "    while True:\n        pass\n" + MATMUL_BODY)
    code, results, out = grade(submission, "ch01", extra=["--call-timeout", "1"])
    assert code == 0, out
    tests = by_test(results)
    assert all(t["status"] == "failed" for t in tests["test_matmul_matches_numpy"])
    assert "did not finish within 1 s" in tests["test_matmul_matches_numpy"][0]["output"]
    assert all(t["status"] == "passed" for t in tests["test_layer_output_matches_reference"])


def test_infinite_loop_at_import_fails_the_chapter_once_not_per_test(submission):
    patch(submission, NEURON, '"""One neuron', 'while True:\n    pass\n"""One neuron')
    code, results, out = grade(submission, "ch01", extra=["--call-timeout", "1"])
    assert code == 0, out
    assert results["score"] == 0
    assert results["execution_time"] < 30, "each test waited for the hanging import again"


def test_monkeypatching_numpy_does_not_fool_the_comparison(submission):
    # A submission that makes numpy's comparisons always succeed, returns garbage,
    # and tries to import the reference and the grader.
    patch(
        submission,
        NEURON,
        MATMUL_BODY,
        "    import numpy\n    numpy.allclose = lambda *a, **k: True\n"
        "    numpy.isclose = lambda a, b, **k: numpy.ones(numpy.shape(a), bool)\n"
        "    return [[0.0] * len(b[0]) for _ in a]\n" + MATMUL_BODY,
    )
    code, results, out = grade(submission, "ch01")
    assert code == 0, out
    assert all(t["status"] == "failed" for t in by_test(results)["test_matmul_matches_numpy"])


@pytest.mark.parametrize("module", ["reference", "grader", "solutions"])
def test_submission_cannot_import_the_grader_or_the_reference(submission, module):
    patch(submission, NEURON, '"""One neuron', f'import {module}\n"""One neuron')
    code, results, out = grade(submission, "ch01")
    assert code == 0, out
    assert results["score"] == 0
    assert "not available to submissions" in results["tests"][0]["output"]


def test_writing_the_results_file_does_not_change_the_grade(submission, tmp_path):
    # The worker knows where the grader writes (a folder this test owns, where a results.json
    # of an earlier run lies) and overwrites every results.json it finds there. It must aim
    # at this test's folder only: tests run in parallel, and at the `process` level a glob of
    # all of /tmp once replaced the results of another test while it was being read.
    target = tmp_path / "results-target"
    target.mkdir()
    (target / "results.json").write_text("{}")
    forged = json.dumps({"score": 1000, "max_score": 1000, "tests": []})
    patch(
        submission,
        NEURON,
        MATMUL_BODY,
        "    import glob, os\n"
        f"    for p in glob.glob({str(target)!r} + '/**/results.json', recursive=True):\n"
        "        try:\n"
        f"            open(p, 'w').write({forged!r})\n"
        "        except OSError:\n"
        "            pass\n"
        "    return None\n" + MATMUL_BODY,
    )
    code, results, out = grade(submission, "ch01", results_dir=target)
    assert code == 0, out
    score, max_score = chapter_score(results, "ch01")
    assert 0 < score < max_score < 1000
    assert all(t["status"] == "failed" for t in by_test(results)["test_matmul_matches_numpy"])


def test_printing_and_reading_stdin_do_not_break_the_protocol(submission):
    patch(
        submission,
        NEURON,
        MATMUL_BODY,
        "    print('{\"id\": 1, \"ok\": 0}')\n    import sys\n    sys.stdout.write('garbage\\n')\n"
        "    try:\n        input()\n    except EOFError:\n        pass\n" + MATMUL_BODY,
    )
    results = _grade_two(submission)
    assert results["score"] == results["max_score"], [
        t for t in results["tests"] if t["status"] != "passed"
    ]


def test_memory_hog_is_stopped(submission):
    patch(submission, NEURON, MATMUL_BODY, "    hog = bytearray(8 * 1024 ** 3)\n" + MATMUL_BODY)
    results = _grade_two(submission)
    tests = by_test(results)
    assert all(t["status"] == "failed" for t in tests["test_matmul_matches_numpy"])
    assert "memory" in tests["test_matmul_matches_numpy"][0]["output"].lower()
    assert all(t["status"] == "passed" for t in tests["test_dense_forward_matches_reference"])


def test_returning_an_unsendable_object_is_a_failure_not_a_crash(submission):
    patch(submission, NEURON, MATMUL_BODY, "    return object()\n" + MATMUL_BODY)
    code, results, out = grade(submission, "ch01")
    assert code == 0, out
    matmul = by_test(results)["test_matmul_matches_numpy"]
    assert all(t["status"] == "failed" for t in matmul)
    assert "got object" in matmul[0]["output"], matmul[0]["output"]


def test_missing_chapter_is_reported_and_others_graded(submission):
    import shutil

    shutil.rmtree(submission / "ch02_activations")
    results = _grade_two(submission)
    assert chapter_score(results, "ch01")[0] == chapter_score(results, "ch01")[1]
    ch02 = [t for t in results["tests"] if "ch02" in t["tags"]]
    assert ch02 and all(t["status"] == "failed" for t in ch02)
    assert "has no ch02_activations package" in ch02[0]["output"]


def test_student_traceback_shows_only_student_frames(submission):
    patch(submission, NEURON, MATMUL_BODY, "    raise KeyError('oops')\n" + MATMUL_BODY)
    code, results, out = grade(submission, "ch01")
    output = by_test(results)["test_matmul_matches_numpy"][0]["output"]
    assert "KeyError" in output and 'File "ch01_neurons/neuron.py"' in output
    assert "worker.py" not in output and "grader" not in output and "site-packages" not in output


def test_next_chapter_starts_as_a_fresh_worker_would(tmp_path):
    """One worker runs every chapter of a grading run; between two chapters it forgets the
    previous one: the grader's objects, the submission's modules (imported again), the files
    in the scratch folder, numpy's error settings and the recursion limit."""
    from grader.sandbox import StudentError, WorkerClient

    root = tmp_path / "submission"
    for name in ("ch01_first", "ch02_second"):
        (root / name).mkdir(parents=True)
    (root / "ch01_first" / "__init__.py").write_text(
        "import os, sys\n"
        "import numpy as np\n"
        "COUNT = [0]\n"
        "def dirty():\n"
        "    COUNT[0] += 1\n"
        "    np.seterr(all='raise')\n"
        "    sys.setrecursionlimit(321)\n"
        "    with open('left-behind.txt', 'w') as fh:\n"
        "        fh.write('x')\n"
        "    return COUNT[0]\n"
        "def state():\n"
        "    return [COUNT[0], np.geterr()['divide'], sorted(os.listdir('.')), sys.getrecursionlimit()]\n"
    )
    (root / "ch02_second" / "__init__.py").write_text("from ..ch01_first import state\n")
    worker = WorkerClient(root, isolation="process")
    try:
        first = worker.request({"op": "import", "module": "ch01_first"})
        fresh = first.state()
        assert first.dirty() == 1
        dirty = first.state()
        assert dirty[0] == 1 and dirty[1] == "raise" and dirty[2] == ["left-behind.txt"]
        assert dirty[3] == 321 != fresh[3]
        pid = worker.proc.pid
        worker.next_chapter()
        assert worker.proc.pid == pid  # the same process
        with pytest.raises(StudentError):
            first.state()  # an object of the previous chapter
        assert worker.request({"op": "import", "module": "ch01_first"}).state() == fresh
        assert worker.request({"op": "import", "module": "ch02_second"}).state() == fresh
    finally:
        worker.close()


def test_a_worker_left_large_by_a_chapter_is_replaced_for_the_next(tmp_path):
    """What a chapter leaves allocated (here kept alive on purpose, out of the grader's reach)
    must not shorten the next chapter's memory limit: past a quarter of the limit, the next
    chapter gets a fresh worker."""
    from grader.sandbox import Limits, WorkerClient

    root = tmp_path / "submission"
    (root / "ch01_first").mkdir(parents=True)
    (root / "ch01_first" / "__init__.py").write_text(
        "import builtins\ndef hoard(mib):\n    builtins._hoard = bytearray(mib << 20)\n"
    )
    worker = WorkerClient(root, Limits(memory_mb=1024), isolation="process")
    try:
        first = worker.request({"op": "import", "module": "ch01_first"})
        first.hoard(16)
        pid = worker.proc.pid
        worker.next_chapter()
        assert worker.alive() and worker.proc.pid == pid  # small: kept
        worker.request({"op": "import", "module": "ch01_first"}).hoard(400)
        worker.next_chapter()
        assert not worker.alive()  # 400 MiB of 1024 kept: replaced
        worker.request({"op": "import", "module": "ch01_first"})
        assert worker.proc.pid != pid
    finally:
        worker.close()
