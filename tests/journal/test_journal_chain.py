"""planactor.journal._chain: the pure check of a stored chain finds every kind of break at
the event where it starts, and accepts an untouched chain."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from planactor.journal._chain import GENESIS, chain, check_chain

RUN = "run-1"


def _rows(payloads: list[str], run_id: str = RUN) -> list[tuple[int, str, str]]:
    rows, prev = [], GENESIS
    for seq, text in enumerate(payloads):
        body = json.dumps({"run": run_id, "seq": seq, "data": text}, sort_keys=True)
        prev = chain(prev, body.encode("utf-8"))
        rows.append((seq, body, prev))
    return rows


_PAYLOADS = st.lists(st.text(max_size=20), min_size=1, max_size=12)


@given(_PAYLOADS)
def test_an_untouched_chain_verifies_up_to_its_head(payloads: list[str]) -> None:
    """A chain built link by link verifies, with its recorded head and any of its events as
    anchor, and reports the last hash as its head."""
    rows = _rows(payloads)
    last = rows[-1]
    for seq, _, digest in rows:
        report = check_chain(RUN, rows, recorded_head=(last[0], last[2]), anchor=(seq, digest))
        assert report.ok
        assert report.head == last[2]
        assert report.events == len(rows)


@given(_PAYLOADS, st.data())
def test_a_changed_body_breaks_the_chain_at_that_event(
    payloads: list[str], data: st.DataObject
) -> None:
    """Rewriting one event's body (keeping its hash) is found at that event."""
    rows = _rows(payloads)
    at = data.draw(st.integers(0, len(rows) - 1))
    seq, body, digest = rows[at]
    doc = json.loads(body)
    doc["data"] += "x"
    rows[at] = (seq, json.dumps(doc, sort_keys=True), digest)
    report = check_chain(RUN, rows, recorded_head=None, anchor=None)
    assert not report.ok
    assert report.first_bad_seq == at
    assert report.reason == "its hash does not match its body and the previous hash"


@given(st.lists(st.text(max_size=20), min_size=2, max_size=12), st.data())
def test_a_deleted_event_is_found_where_it_was(payloads: list[str], data: st.DataObject) -> None:
    """Deleting an event in the middle breaks the chain at its place; deleting the tail is
    caught by the run's recorded head."""
    rows = _rows(payloads)
    head = (rows[-1][0], rows[-1][2])
    at = data.draw(st.integers(0, len(rows) - 1))
    report = check_chain(RUN, rows[:at] + rows[at + 1 :], recorded_head=head, anchor=None)
    assert not report.ok
    assert report.first_bad_seq == at
    if at == len(rows) - 1:
        assert report.reason is not None
        assert "cut off" in report.reason


def test_a_consistently_rewritten_tail_is_caught_only_by_the_anchor() -> None:
    """A tail rewritten with fresh hashes and a matching recorded head verifies on its own;
    the anchor kept outside the journal names the first rewritten event."""
    original = _rows(["a", "b", "c", "d"])
    forged = _rows(["a", "b", "C", "d"])
    head = (forged[-1][0], forged[-1][2])
    assert check_chain(RUN, forged, recorded_head=head, anchor=None).ok
    report = check_chain(RUN, forged, recorded_head=head, anchor=(2, original[2][2]))
    assert not report.ok
    assert report.first_bad_seq == 2
    assert report.reason is not None
    assert "rewritten" in report.reason


def test_events_of_another_run_and_bodies_that_are_not_objects_are_refused() -> None:
    """An event chained correctly but naming another run, or a body that is not a JSON object,
    breaks the chain there; a run with no events is not ok."""
    foreign = _rows(["a", "b"], run_id="run-2")
    assert check_chain(RUN, foreign, recorded_head=None, anchor=None).first_bad_seq == 0
    body = "[1, 2]"
    not_object = [(0, body, chain(GENESIS, body.encode()))]
    report = check_chain(RUN, not_object, recorded_head=None, anchor=None)
    assert not report.ok
    assert report.reason == "its body is not a JSON object"
    empty = check_chain(RUN, [], recorded_head=None, anchor=None)
    assert not empty.ok
    assert empty.head == GENESIS
