"""The reference page's in-memory example produces the outputs printed there."""

import re

from .simple_example import SimpleRepository


def _rows(html):
    return [
        re.findall(r"<td(?:\s[^>]*)?>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html) if "<td" in row
    ]


def test_repository_listing_as_printed():
    simple = SimpleRepository()
    assert simple.all() == {"alpha": "alpha", "bravo": "bravo", "charlie": "charlie"}


def test_scan_table_as_printed():
    simple = SimpleRepository()
    html = simple.alpha._repr_html_()
    header = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", html)
    for column in ("scan", "type", "steps", "notes"):
        assert column in header
    rows = [dict(zip(header, row, strict=True)) for row in _rows(html)]
    assert [r["scan"] for r in rows] == ["a0", "a1", "a2", "a3"]
    assert {r["type"] for r in rows} == {"default_type"}
    assert {r["notes"] for r in rows} == {"Nonsensical Demo Scan Class"}
    text = repr(simple.alpha)
    assert text.count("Nonsensical Demo Scan Class") == 4


def test_raw_and_cooked_as_printed(capsys):
    simple = SimpleRepository()
    print("   raw:", simple.alpha.a0.raw)
    print("cooked:", simple.alpha.a0.cooked)
    assert capsys.readouterr().out == "   raw: ('alpha', 'a0')\ncooked: ('ALPHA', 'A0')\n"


def test_other_scans_and_proposals_work_too():
    simple = SimpleRepository()
    assert simple.bravo.b0.raw == ("bravo", "b0")
    assert simple.charlie.c3.cooked == ("CHARLIE", "C3")
    assert "c3" in dir(simple.charlie)
    assert simple["charlie"].scan(key="c2").raw == ("charlie", "c2")


def test_subclassed_repository_goes_through_the_hook_machinery():
    """The subclass API is served by the same registry calls as plugins (an extension sees them)."""
    import nx5d

    seen = []

    class Spy:
        @nx5d.hookimpl(wrapper=True)
        def nx5d_raw(self, scan, options):
            seen.append(scan.key)
            return (yield)

    simple = SimpleRepository()
    simple.registry.register_extension(Spy(), "reference-spy")
    try:
        assert simple.alpha.a1.raw == ("alpha", "a1")
    finally:
        simple.registry.unregister("reference-spy")
    assert seen == ["a1"]
