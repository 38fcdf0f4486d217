"""The wire format: records round-trip, and a resume decision's signature binds its contents."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planactor.distributed._protocol import (
    decode,
    encode,
    sign_decision,
    spec_from,
    spec_to,
    trusted_key,
    verify_decision,
)
from planactor.engine import (
    CompensationFailed,
    CompensationSucceeded,
    FinishRun,
    PauseRun,
    Resumed,
    SkipStep,
    StartStep,
    StepError,
    StepFailed,
    StepSpec,
    StepSucceeded,
)
from planactor.plan import RetryPolicy
from planactor.policy import key_id_of

ERR = StepError(kind="ActorError", message="no", retryable=False, unexpected=True)


@pytest.mark.parametrize(
    "item",
    [
        StartStep(step="a", attempt=2, args={"x": [1]}, delay_s=0.5),
        SkipStep(step="a", reason="condition `when` is false"),
        PauseRun(reason="why", step="a"),
        FinishRun(status="compensated", reason="step 'f' failed"),
        StepSucceeded(step="a", attempt=1, output={"y": 2}),
        StepFailed(step="a", attempt=3, error=ERR),
        CompensationSucceeded(step="a"),
        CompensationFailed(step="a", error=ERR),
        Resumed(retry=("a",), abort=True),
    ],
    ids=lambda i: type(i).__name__,
)
def test_a_record_decodes_to_what_was_encoded(item: object) -> None:
    """Every command and event the workflow records comes back equal from its record."""
    assert decode(encode(item)) == item  # type: ignore[arg-type]


def test_a_step_spec_round_trips() -> None:
    """The actors' specs travel in the workflow input and come back equal."""
    spec = StepSpec(
        effect="write",
        idempotent=False,
        compensate="u",
        retry=RetryPolicy(attempts=3, backoff_s=0.1),
        timeout_s=2.0,
    )
    assert spec_from(spec_to(spec)) == spec


def test_a_signature_binds_run_plan_and_decision() -> None:
    """A signed decision verifies; changing its run, plan hash, choice or signer does not."""
    key = Ed25519PrivateKey.generate()
    kid = key_id_of(key.public_key())
    trusted = [trusted_key("alice", kid, key.public_key())]
    d = sign_decision(
        run_id="r", plan_hash="sha256:a", identity="alice", key_id=kid, key=key, retry=["s"]
    )
    assert verify_decision(d, run_id="r", plan_hash="sha256:a", trusted=trusted) is None
    assert verify_decision(d, run_id="r2", plan_hash="sha256:a", trusted=trusted)
    assert verify_decision(d, run_id="r", plan_hash="sha256:b", trusted=trusted)
    assert verify_decision(
        replace(d, abort=True), run_id="r", plan_hash="sha256:a", trusted=trusted
    )
    assert verify_decision(
        replace(d, identity="bob"), run_id="r", plan_hash="sha256:a", trusted=trusted
    )
