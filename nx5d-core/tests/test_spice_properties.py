"""Property-based test: spice views against a deliberately simple reference model.

Random sequences of seed / update / anchor / withdraw run against the real
spice API (in-memory store) and against ``Model`` below, which keeps each
branch as a plain list of data; after every step the views at every scan must
agree, and the real API must raise exactly where the model says an operation
is impossible.
"""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import nx5d
import nx5d_memory
from nx5d.errors import SpiceError

from .helpers import make_scan

SCANS = ["1", "2", "9", "10", "11", "20"]  # scan order is numeric: 9 before 10
HANDLES = ["a", "b"]
FIELDS = ["x", "y"]


class Impossible(Exception):
    pass


class Model:
    def __init__(self):
        self.branches = {}  # (handle, anchor) -> [data, data, ...]; None = withdrawn

    @staticmethod
    def pos(anchor):
        return -1 if anchor == "" else SCANS.index(anchor)

    def applicable(self, handle, scan):
        anchors = [a for (h, a) in self.branches if h == handle and self.pos(a) <= self.pos(scan)]
        return max(anchors, key=self.pos) if anchors else None

    def current(self, handle, scan):
        anchor = self.applicable(handle, scan)
        if anchor is None:
            raise Impossible
        return anchor, self.branches[(handle, anchor)][-1]

    def seed(self, handle, data):
        self.branches.setdefault((handle, ""), [dict(data)])

    def update(self, scan, handle, changes, allow_new):
        anchor, data = self.current(handle, scan)
        if data is None or (not allow_new and set(changes) - set(data)):
            raise Impossible
        new = {**data, **changes}
        if new != data:
            self.branches[(handle, anchor)].append(new)

    def anchor(self, scan, handle):
        if (handle, scan) not in self.branches:
            _, data = self.current(handle, scan)
            self.branches[(handle, scan)] = [data]

    def withdraw(self, scan, handle):
        anchor, data = self.current(handle, scan)
        if data is None:
            return
        if anchor == scan:
            self.branches[(handle, scan)].append(None)
        else:
            self.branches[(handle, scan)] = [None]

    def view(self, scan):
        out = {}
        for handle in HANDLES:
            anchor = self.applicable(handle, scan)
            if anchor is not None and self.branches[(handle, anchor)][-1] is not None:
                out[handle] = self.branches[(handle, anchor)][-1]
        return out


values = st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 3), min_size=1)
operations = st.one_of(
    st.tuples(st.just("seed"), st.sampled_from(HANDLES), values),
    st.tuples(st.just("update"), st.sampled_from(SCANS), st.sampled_from(HANDLES), values, st.booleans()),
    st.tuples(st.just("anchor"), st.sampled_from(SCANS), st.sampled_from(HANDLES)),
    st.tuples(st.just("withdraw"), st.sampled_from(SCANS), st.sampled_from(HANDLES)),
)

URL = nx5d_memory.register("spice-properties", {"p": {k: make_scan(1) for k in SCANS}}, replace=True)


def real_view(book, scan):
    return {h: json.loads(json.dumps(dict(s))) for h, s in book.view(scan).items()}


@settings(max_examples=150, deadline=None)
@given(st.lists(operations, max_size=25))
def test_views_match_the_reference_model(ops):
    book = nx5d.open(URL, spice_url="").p.spice
    model = Model()
    for op in ops:
        kind, *args = op
        try:
            if kind == "seed":
                model.seed(*args)
            elif kind == "update":
                model.update(*args)
            else:
                getattr(model, kind)(*args)
            expect_failure = False
        except Impossible:
            expect_failure = True
        try:
            if kind == "seed":
                book.seed(args[0], args[1])
            elif kind == "update":
                scan, handle, changes, allow_new = args
                book.update(scan, handle, changes, allow_new=allow_new)
            else:
                getattr(book, kind)(*args)
            failed = False
        except SpiceError:
            failed = True
        assert failed == expect_failure, (op, model.branches)
        for scan in SCANS:
            assert real_view(book, scan) == model.view(scan), (op, scan, model.branches)
