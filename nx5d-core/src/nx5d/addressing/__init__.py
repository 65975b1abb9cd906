"""Addressing: repository URL patterns, proposal and scan keys, handles, and the pattern walk over storage."""
