"""Fixtures shared by the cross-distribution tests."""

from __future__ import annotations

import pytest

import nx5d


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cooked cache for the test (``NX5D_CACHE_DIR`` in ``tmp_path``), switched on; its folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NX5D_CACHE_DIR", str(folder))
    monkeypatch.setattr(nx5d.cooked_cache, "enabled", True)
    return folder / "cooked"
