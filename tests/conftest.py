"""Shared test configuration.

Property tests (hypothesis) are derandomized so a CI run is reproducible;
`HYPOTHESIS_PROFILE=explore` draws fresh examples for a local hunt.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
