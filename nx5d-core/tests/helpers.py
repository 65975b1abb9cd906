"""Data helpers shared by the core tests."""

from nx5d_memory.examples import rocking_scan as make_scan
from nx5d_memory.examples import scale_cook

__all__ = ["make_scan", "scale_cook", "cells"]


def cells(markup):
    """The texts of an HTML table's header and data cells, in order."""
    import re

    return re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", markup)
