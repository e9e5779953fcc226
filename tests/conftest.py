"""Test settings shared by every suite."""

from __future__ import annotations

import os

from hypothesis import settings

# `HYPOTHESIS_PROFILE=deep make test` runs the property-based tests far longer.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
