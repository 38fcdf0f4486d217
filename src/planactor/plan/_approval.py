"""An approval record as it travels inside a plan file. Pure data: signing and checking
live in `planactor.policy`, which holds the keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planactor.plan._canonical import canonical_json
from planactor.plan._identity import identity_problem

__all__ = ["APPROVAL_DOMAIN", "Approval"]

# Signed bytes start with this tag, so an approval signature can never be replayed as a
# signature over anything else made with the same key (and vice versa).
APPROVAL_DOMAIN = b"planactor-approval/v1\n"


class Approval(BaseModel):
    """Who approved which exact plan (by hash), when, until when, under which ticket."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="The plan approved.")
    identity: str = Field(min_length=1, max_length=128, description="The approver's key name.")
    key_id: str = Field(
        pattern=r"^ed25519:[0-9a-f]{64}$", description="SHA-256 of the raw public key."
    )
    approved_at: datetime
    expires_at: datetime
    ticket: str | None = Field(default=None, max_length=128)
    comment: str | None = Field(default=None, max_length=2000)
    signature: str = Field(
        pattern=r"^[A-Za-z0-9+/]{86}==$", description="Base64 Ed25519 signature of `payload()`."
    )

    @field_validator("identity")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        # Whole-string ASCII: `alice\n` or `аlice` would otherwise name a second approver.
        problem = identity_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("approved_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-24T10:00:00Z")
        return value

    def payload(self) -> bytes:
        """The exact bytes the signature covers: every field but the signature itself."""
        return APPROVAL_DOMAIN + canonical_json(signed_fields(self.model_dump(mode="json")))


def signed_fields(doc: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in doc.items() if k != "signature"}
