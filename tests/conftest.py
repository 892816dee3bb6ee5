import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chainrule.fast import choice, threads  # noqa: E402


@pytest.fixture(autouse=True)
def _a_fresh_choice_between_every_core_and_one():
    """The choice between every core and one holds for the process (chainrule.fast.choice's
    latest, and the BLAS library's thread count a loop of GradientTape steps set): each test
    starts from none, the library's own count, and its first tape from a fresh choice."""
    choice._latest = None
    yield
    if threads._loop:
        threads._loop[2].restore()
    threads._loop = None
    choice._latest = None
