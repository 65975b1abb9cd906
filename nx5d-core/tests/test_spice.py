"""Spice semantics: seed, update, anchor, withdraw, view, history, conflicts, defaults, schemas, cooking."""

import warnings

import attrs
import pytest

import nx5d
import nx5d_memory
from nx5d.errors import (
    ScanNotFoundError,
    SpiceConflict,
    SpiceError,
    SpiceNotFoundError,
    SpiceValidationError,
    SpiceWarning,
)
from nx5d.plugins import Beamline, ClaimLevel
from nx5d.plugins.discovery import PluginRegistry
from nx5d.spice.record import new_record

from .helpers import make_scan

SCANS = ["1", "2", "9", "10", "11"]


@pytest.fixture
def proposal(request):
    name = f"spice-{request.node.name}"[:60]
    url = nx5d_memory.register(name, {"p": {k: make_scan(2) for k in SCANS}})
    yield nx5d.open(url, spice_url="").p
    nx5d_memory.unregister(name)


def test_seed_returns_the_record_and_is_idempotent(proposal):
    first = proposal.spice.seed("settings", img_center=(50, 120), img_distance=690.0, grid_size=(80, 150))
    fields = {"version", "type", "handle", "uuid", "revision", "anchor", "data", "created", "author", "note"}
    assert set(first) == fields
    assert (first["type"], first["handle"], first["revision"], first["anchor"]) == ("settings", "settings", 1, "")
    assert first["data"] == {"img_center": (50, 120), "img_distance": 690.0, "grid_size": (80, 150)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same fields again (a notebook run twice): quiet
        assert proposal.spice.seed("settings", img_center=[50, 120], img_distance=690.0, grid_size=[80, 150]) == first
    proposal.spice.update("1", "settings", img_distance=700.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # still the first seed's fields, though revision 2 now differs
        proposal.spice.seed("settings", img_center=(50, 120), img_distance=690.0, grid_size=(80, 150))
    with pytest.warns(SpiceWarning, match=r"spice 'settings' of proposal 'p' was seeded before with other fields"):
        again = proposal.spice.seed("settings", img_center=(50, 120), img_distance=690.0, grid_size=(70, 140))
    assert again["revision"] == 2  # re-seeding returns the latest existing record, and writes nothing
    with pytest.raises(SpiceError, match="already seeded"):
        proposal.spice.seed("settings", exist_ok=False, x=1)
    assert len(proposal.spice.records()) == 2


def test_returned_records_are_copies(proposal):
    record = proposal.spice.seed("roi", payload={"x": [1, 2]})
    record["data"]["x"].append(3)
    assert proposal.spice.view("1")["roi"].x == [1, 2]


def test_view_uses_nearest_preceding_anchor_in_numeric_scan_order(proposal):
    book = proposal.spice
    book.seed("settings", distance=680.0)
    book.anchor("9", "settings")
    book.update("9", "settings", distance=700.0)
    assert [book.view(k)["settings"].distance for k in SCANS] == [680.0, 680.0, 700.0, 700.0, 700.0]
    book.anchor("10", "settings")  # '10' comes after '9', although '10' < '9' as text
    book.update("10", "settings", distance=720.0)
    assert [book.view(k)["settings"].distance for k in SCANS] == [680.0, 680.0, 700.0, 720.0, 720.0]
    book.update("2", "settings", distance=690.0)  # revises the proposal-wide branch only
    assert [book.view(k)["settings"].distance for k in SCANS] == [690.0, 690.0, 700.0, 720.0, 720.0]


def test_scans_named_by_key_handle_or_object(proposal):
    proposal.spice.seed("s", a=1)
    assert proposal.spice.view("s10")["s"].a == 1
    assert proposal.spice.view(proposal.s10)["s"].a == 1
    assert proposal.s10.spice["s"].a == 1
    with pytest.raises(ScanNotFoundError, match="'12'"):
        proposal.spice.view("12")


def test_a_mistyped_field_gets_a_did_you_mean(proposal):
    book = proposal.spice
    book.seed("settings", distance=680.0, img_center=[1, 2])
    with pytest.raises(SpiceValidationError, match=r"no field\(s\) distnace; did you mean 'distance'\? \(fields"):
        book.update("1", "settings", distnace=690.0)
    with pytest.raises(AttributeError, match=r"no field 'img_centre'; did you mean 'img_center'\?"):
        _ = proposal.s10.spice["settings"].img_centre
    with pytest.raises(SpiceValidationError, match=r"no field\(s\) colour(?!; did you mean)"):
        book.update("1", "settings", colour="red")  # nothing close: no guess


def test_cook_with_fields_instead_of_handles_is_refused_by_name(proposal):
    with pytest.raises(SpiceValidationError, match=r"'img_center' holds list, not fields; did you mean \{'settings'"):
        proposal.s10.cook({"img_center": [1, 2]})


def test_update_rules(proposal):
    book = proposal.spice
    book.seed("settings", distance=680.0, center=[1, 2])
    with pytest.raises(SpiceValidationError, match=r"no field.*energy.*allow_new"):
        book.update("1", "settings", energy=8048.0)
    rev2 = book.update("1", "settings", energy=8048.0, allow_new=True)
    assert rev2["revision"] == 2
    assert rev2["data"] == {"distance": 680.0, "center": [1, 2], "energy": 8048.0}
    unchanged = book.update("1", "settings", center=(1, 2))  # same content: nothing written
    assert unchanged == rev2
    by_uuid = book.update(rev2["uuid"][:8], distance=690.0)
    assert (by_uuid["revision"], by_uuid["data"]["distance"]) == (3, 690.0)
    with pytest.raises(SpiceNotFoundError, match="no spice 'other' applies"):
        book.update("1", "other", x=1)
    with pytest.raises(SpiceNotFoundError, match="uuid starting 'ffff"):
        book.update("ffffffff", x=1)


def test_withdraw_and_defaults(proposal):
    book = proposal.spice
    book.seed("roi", x0=1, x1=5)
    book.withdraw("10", "roi")
    assert "roi" in book.view("9")
    assert "roi" not in book.view("10")
    assert "roi" not in book.view("11")
    assert "withdrawn" in repr(book.view("11"))
    with pytest.raises(SpiceError, match="withdrawn"):
        book.update("11", "roi", x0=2)
    book.anchor("11", "roi")  # a new branch carrying the data that applies at 11: none
    assert "roi" not in book.view("11")
    book.withdraw("", "roi")
    assert "roi" not in book.view("1")


def test_anchor_is_idempotent_and_needs_something_to_carry(proposal):
    book = proposal.spice
    with pytest.raises(SpiceNotFoundError, match="seed it first"):
        book.anchor("9", "settings")
    book.seed("settings", a=1)
    first = book.anchor("9", "settings")
    assert first["anchor"] == "9"
    assert first["data"] == {"a": 1}
    assert book.anchor("s9", "settings") == first


def test_history_and_ls(proposal):
    book = proposal.spice
    book.seed("a", v=1)
    book.update("1", "a", v=2)
    book.anchor("10", "a")
    book.seed("b", w=0)
    history = book.history("a")
    assert [(r["anchor"], r["revision"]) for r in history] == [("", 1), ("", 2), ("10", 1)]
    assert "(start)" in repr(history)
    assert len(book.ls()) == 4
    assert "<table" in book.ls()._repr_html_()
    with pytest.raises(SpiceNotFoundError):
        book.history("nope")


def write_conflict(proposal, handle="settings"):
    """Two records claiming revision 2 of one branch, as two unlocked writers would leave them."""
    store = proposal.repository.spice_store
    for value in (1.0, 2.0):
        store.write(
            proposal.key, new_record(type=handle, handle=handle, revision=2, anchor="", data={"distance": value})
        )


def test_conflicts_are_reported_never_resolved_silently(proposal):
    proposal.spice.seed("settings", distance=0.0)
    write_conflict(proposal)
    view = proposal.spice.view("1")
    assert not view.clean
    uuids = view.entries["settings"].resolution.uuids
    assert len(uuids) == 2
    assert f"CONFLICT between records {uuids[0][:8]}, {uuids[1][:8]}" in repr(view)
    assert view.rows()[0]["clean"] is False
    with pytest.raises(SpiceConflict) as info:
        view["settings"]
    assert set(info.value.uuids) == set(uuids)
    with pytest.raises(SpiceConflict, match=uuids[0]):
        proposal.s1.cooked  # noqa: B018
    with pytest.raises(SpiceConflict):
        proposal.spice.update("1", "settings", distance=5.0)
    assert [r["conflict"] for r in proposal.spice.history("settings")] == [False, True, True]


def test_resolve_writes_the_next_revision(proposal):
    proposal.spice.seed("settings", distance=0.0)
    write_conflict(proposal)
    uuids = proposal.spice.view("1").entries["settings"].resolution.uuids
    keep = next(r for r in proposal.spice.records() if r.uuid == uuids[1])
    with pytest.raises(SpiceError, match="say which to keep"):
        proposal.spice.resolve("1", "settings")
    resolved = proposal.spice.resolve("1", "settings", keep=uuids[1][:8])
    assert resolved["revision"] == 3
    assert resolved["data"] == keep.data
    assert proposal.spice.view("1").clean
    assert proposal.spice.resolve("1", "settings") == resolved  # nothing left to resolve
    assert len(proposal.spice.records()) == 4  # nothing was deleted


def test_resolve_by_uuid_prefix_keeps_that_record(proposal):
    proposal.spice.seed("settings", distance=0.0)
    write_conflict(proposal)
    loser, winner = proposal.spice.view("1").entries["settings"].resolution.records
    resolved = proposal.spice.resolve(winner.uuid[:8])
    assert resolved["data"] == winner.data
    assert loser.uuid != winner.uuid


# --- defaults, schemas and cooking through a beamline ------------------------------------


@attrs.define
class RsmSettings:
    img_center: tuple[int, int] = (97, 241)
    img_distance: float = 680.0
    grid_size: tuple[int, int] = (80, 150)


@attrs.define
class Roi:
    x: tuple[int, int]
    label: str | None = None


class SchemaBeamline:
    NX5D_PLUGIN_API = 2
    NX5D_BEAMLINE = Beamline(
        "schema test beamline",
        schemes=("memory",),
        level=ClaimLevel.BEAMLINE,
        spice={"settings": RsmSettings, "roi": Roi},
    )

    def __init__(self):
        self.cooks = 0

    @nx5d.hookimpl
    def nx5d_list_proposals(self, repository):
        return ["p"]

    @nx5d.hookimpl
    def nx5d_list_scans(self, proposal):
        return SCANS

    @nx5d.hookimpl
    def nx5d_raw(self, scan, options):
        return make_scan(3)

    @nx5d.hookimpl
    def nx5d_cook(self, scan, raw, spice):
        self.cooks += 1
        return (tuple(spice["settings"].img_center), spice["settings"].img_distance)


@pytest.fixture
def schema_repo():
    reg = PluginRegistry(discover=False)
    beamline = SchemaBeamline()
    reg.register_beamline("schema", beamline)
    return nx5d.open("memory://x/{proposal}/{scan}", registry=reg, spice_url=""), beamline


def test_defaults_cook_without_records_and_views_show_their_source(schema_repo):
    repo, _ = schema_repo
    scan = repo.p.s1
    assert scan.cooked == ((97, 241), 680.0)
    view = scan.spice
    assert view["settings"].grid_size == (80, 150)
    assert view.rows()[0]["from defaults"] == "all"
    repo.p.spice.seed("settings", img_distance=690.0)
    row = repo.p.spice.view("1").rows()[0]
    assert row["from defaults"] == "img_center, grid_size"
    assert row["data"] == {"img_center": (97, 241), "img_distance": 690.0, "grid_size": (80, 150)}


def test_schema_refuses_bad_records_before_writing(schema_repo):
    repo, _ = schema_repo
    book = repo.p.spice
    with pytest.raises(SpiceValidationError, match=r"unknown field.*img_centre"):
        book.seed("settings", img_centre=(1, 2))
    with pytest.raises(SpiceValidationError, match="'img_distance' must be float, got 'far'"):
        book.seed("settings", img_distance="far")
    with pytest.raises(SpiceValidationError, match=r"missing field.*x"):
        book.seed("roi", label="peak")
    with pytest.raises(SpiceValidationError, match="'x' must be"):
        book.seed("roi", x=(1, "2"))
    assert book.records() == []
    book.seed("roi", x=[1, 2])  # JSON arrays are fine for tuples
    book.seed("detector_roi", type="roi", x=(3, 4), label="second")
    with pytest.raises(SpiceValidationError):
        book.update("1", "detector_roi", label=5)
    assert len(book.records()) == 2


def test_cooked_is_cached_by_spice_content(schema_repo):
    repo, beamline = schema_repo
    scan = repo.p.s9
    first = scan.cooked
    assert scan.cooked is first
    assert beamline.cooks == 1
    repo.p.spice.seed("settings", img_distance=700.0)
    assert scan.cooked == ((97, 241), 700.0)
    assert beamline.cooks == 2
    repo.p.spice.seed("roi", x=[0, 1])  # another handle changes the view's content too
    scan.cooked  # noqa: B018
    assert beamline.cooks == 3
    scan.cooked  # noqa: B018
    assert beamline.cooks == 3
    repo.p.spice.anchor("10", "settings")  # applies after scan 9 only: the view at 9 is unchanged
    scan.cooked  # noqa: B018
    assert beamline.cooks == 3
