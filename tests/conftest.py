import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chainrule.fast import threads  # noqa: E402


@pytest.fixture(autouse=True)
def _a_fresh_choice_for_loops_written_by_hand():
    """The BLAS library's thread count that a loop of GradientTape steps chose
    (chainrule.fast.threads.loop_step) holds for the process: each test starts from the
    library's own count, and its first tape from a fresh choice."""
    yield
    if threads._loop:
        threads._loop[2].restore()
    threads._loop = None
