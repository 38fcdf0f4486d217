"""What the storage and network models share: fault counts are parsed one way for both."""

from __future__ import annotations

from typing import Any

import pytest

from planactor.lab import kinds, network, storage
from planactor.lab._common import fault_times

# A fault of each kind that takes a count, per kind of lab, and a scenario to inject it into.
COUNTED = {
    "storage": ("default", {"kind": "upgrade-fails", "controller": "array-01-a"}),
    "network": ("built", {"kind": "apply-fails"}),
}


@pytest.mark.parametrize("lab_kind", sorted(COUNTED))
@pytest.mark.parametrize("times", [True, False, 0, -1, 1.5, "2"])
def test_both_labs_refuse_a_count_that_is_not_a_positive_integer(lab_kind: str, times: Any) -> None:
    """`"times": true` is not a count (Python says True == 1): both kinds refuse it, and any
    other count that is not a positive integer, as an invalid fault."""
    kind = kinds()[lab_kind]
    scenario, fault = COUNTED[lab_kind]
    built = kind.build(scenario)
    out = kind.apply(built.state, built.faults, "inject_fault", {**fault, "times": times})
    assert out.status == "refused"
    assert out.error is not None
    assert out.error["kind"] == "invalid"
    assert "'times' must be a positive integer" in out.error["message"]
    assert out.faults == built.faults


@pytest.mark.parametrize(
    "parse", [storage.faults_from_doc, network.faults_from_doc], ids=["storage", "network"]
)
def test_fault_documents_with_a_boolean_count_do_not_parse(parse: Any) -> None:
    """A lab file whose fault says `"times": true` is malformed for either kind."""
    doc = {"kind": "upgrade-fails", "controller": "array-01-a", "times": True}
    if parse is network.faults_from_doc:
        doc = {"kind": "apply-fails", "times": True}
    with pytest.raises(ValueError, match="positive integer"):
        parse([doc])


def test_fault_times_defaults_and_limits() -> None:
    """Counted kinds fire once by default, others until cleared; `only_counted` refuses a
    count on the rest."""
    counted = ("apply-fails",)
    assert fault_times({}, "apply-fails", counted=counted, only_counted=True) == 1
    assert fault_times({}, "link-down", counted=counted, only_counted=True) is None
    assert fault_times({"times": 3}, "link-down", counted=counted, only_counted=False) == 3
    with pytest.raises(ValueError, match=r"\(apply-fails only\)"):
        fault_times({"times": 3}, "link-down", counted=counted, only_counted=True)
