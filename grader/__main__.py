import os
import sys

# Fixtures are recorded (``fixtures``, ``release``) and checked (``fixtures --check``) with one
# BLAS thread: a matrix product summed in another order changes the last bits, and central
# differences magnify them. Set before numpy is first imported (by the command line below).
if len(sys.argv) > 1 and sys.argv[1] in ("fixtures", "release"):
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = "1"

from .cli import main  # noqa: E402

sys.exit(main())
