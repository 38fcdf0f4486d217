"""The audit record as JSON (format `planactor-audit/v1`)."""

from __future__ import annotations

import json

from planactor.audit._record import AuditRecord

__all__ = ["audit_json"]


def audit_json(record: AuditRecord) -> str:
    """The audit record as JSON (format `planactor-audit/v1`), every event included."""
    return json.dumps(record.to_document(), indent=2, ensure_ascii=False) + "\n"
