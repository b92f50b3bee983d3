"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: third-party test corpora shared between the projects of this workspace (see each folder's README.md)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared corpora folder; tests that need it are skipped only if the folder is missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA
