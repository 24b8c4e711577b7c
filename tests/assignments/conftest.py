"""Fixtures of the assignment tests (the fixture course lives in toy_course.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from toy_course import build_toy_repo


@pytest.fixture
def toy_course(tmp_path) -> Path:
    """The fixture course folder (its library is ``<course>/../cs231n_lib``)."""
    return build_toy_repo(tmp_path / "repo")
