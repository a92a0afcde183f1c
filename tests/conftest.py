"""Shared fixtures: small, fast model settings for tests."""

from __future__ import annotations

import pytest

SMALL = {"customers": 600}


@pytest.fixture
def small() -> dict[str, int]:
    """Keywords for a small market that runs fast."""
    return dict(SMALL)
