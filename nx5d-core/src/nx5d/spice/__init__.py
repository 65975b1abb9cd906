"""Spice: versioned analysis settings that cooking receives."""

from .values import Settings, as_settings, fingerprint

__all__ = ["Settings", "as_settings", "fingerprint"]
