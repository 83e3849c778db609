"""Test settings: property tests are reproducible under CI.

With ``CI`` set (as ``.ci/run`` is run), every Hypothesis test is derandomized:
a submission passes or fails on its own merits, never on the luck of a draw.
Locally the draws are random, to keep finding new cases.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
