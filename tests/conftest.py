"""Test settings for the property tests.

No per-example deadline: a loaded machine (CI has two cores) must not fail a
correct example for being slow.  With ``CI`` set (as ``.ci/run`` is run),
every Hypothesis test is also derandomized, so a submission passes or fails on
its own merits, never on the luck of a draw; locally the draws are random, to
keep finding new cases.
"""
import os

from hypothesis import settings

settings.register_profile("matdiff", deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("matdiff"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "matdiff")
