"""Approvers' keys made in memory (on pytest's pythonpath), for the tests that sign and judge
approvals without a key store on disk. mallory has a key that nobody trusts by default."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planactor.policy import PublicKey, key_id_of

__all__ = ["KEYS", "trust_store", "trusted_key"]

KEYS = {name: Ed25519PrivateKey.generate() for name in ("alice", "carol", "dave", "mallory")}


def trusted_key(identity: str, key: Ed25519PrivateKey, path: Path | None = None) -> PublicKey:
    """`key`'s public half trusted as `identity`'s, as if loaded from `path` (IDENTITY.pub)."""
    return PublicKey(
        identity=identity,
        key_id=key_id_of(key.public_key()),
        key=key.public_key(),
        path=Path(f"{identity}.pub") if path is None else path,
    )


def trust_store(*names: str) -> dict[str, PublicKey]:
    """A trust store holding the public key of KEYS[name] for each name."""
    return {name: trusted_key(name, KEYS[name]) for name in names}
