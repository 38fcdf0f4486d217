"""Approver keys: Ed25519 key pairs kept under `$PLANACTOR_HOME/keys`.

`NAME.key` is the private key (PKCS#8 PEM, mode 0600) and exists only on the approver's
machine; `NAME.pub` is the public key (SubjectPublicKeyInfo PEM). Every `.pub` file in the
directory is a trusted approver: trusting a colleague means importing their `.pub`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from planactor._errors import InputError
from planactor._home import home

__all__ = ["IDENTITY_PATTERN", "KeyStore", "PublicKey", "is_machine_identity", "key_id_of"]

IDENTITY_PATTERN = r"^[a-z][a-z0-9._-]{0,63}$"
_IDENTITY = re.compile(IDENTITY_PATTERN)
# Identities a planner, an LLM or the tool itself might use. None of them may hold an
# approver key: a plan is approved by a person, never by what produced it.
_MACHINE = re.compile(r"^(planner|llm|ai|agent|bot|model|planactor|system|root)([._-].*)?$")


def is_machine_identity(name: str) -> bool:
    return bool(_MACHINE.match(name.lower()))


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """A trusted approver: the identity and the key its signatures must verify under."""

    identity: str
    key_id: str
    key: Ed25519PublicKey
    path: Path


class KeyStore:
    """The keys under one directory (default `$PLANACTOR_HOME/keys`)."""

    def __init__(self, *, directory: Path | None = None) -> None:
        self.directory = directory or home() / "keys"

    # -- creating and importing ------------------------------------------------------------

    def new(self, name: str) -> PublicKey:
        """Create `name`'s key pair; refuse to overwrite one that exists."""
        check_identity(name)
        private_path, public_path = self._paths(name)
        if private_path.exists() or public_path.exists():
            raise InputError(
                f"a key named {name!r} already exists in {self.directory}",
                hint="pick another name, or remove the old key files on purpose",
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Created 0600 from the start: never readable by others, not even for an instant.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        public_path.write_bytes(_public_pem(private.public_key()))
        return PublicKey(
            identity=name,
            key_id=key_id_of(private.public_key()),
            key=private.public_key(),
            path=public_path,
        )

    def import_public(self, name: str, source: Path) -> PublicKey:
        """Trust `source` (a public key PEM) as approver `name`."""
        check_identity(name)
        try:
            data = source.read_bytes()
        except OSError as e:
            raise InputError(f"{source}: cannot read: {e.strerror}") from None
        key = _load_public(data, source)
        _, public_path = self._paths(name)
        if public_path.exists() and public_path.read_bytes() != _public_pem(key):
            raise InputError(
                f"{name!r} is already trusted with a different key ({public_path})",
                hint="remove the old .pub file on purpose if the key was rotated",
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        public_path.write_bytes(_public_pem(key))
        return PublicKey(identity=name, key_id=key_id_of(key), key=key, path=public_path)

    # -- reading ---------------------------------------------------------------------------

    def private(self, name: str, *, path: Path | None = None) -> Ed25519PrivateKey:
        """`name`'s private key, from the store or from an explicit `path`."""
        source = path or self._paths(name)[0]
        try:
            data = source.read_bytes()
        except FileNotFoundError:
            raise InputError(
                f"no private key for {name!r} at {source}",
                hint=f"create one with `planactor keys new --name {name}`",
            ) from None
        except OSError as e:
            raise InputError(f"{source}: cannot read: {e.strerror}") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InputError(
                f"{source}: not an unencrypted PEM private key",
                hint="keys made by `planactor keys new` are PKCS#8 PEM",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(f"{source}: not an Ed25519 key", hint="approvals use Ed25519")
        return key

    def trusted(self) -> dict[str, PublicKey]:
        """Every trusted approver, by identity. Unreadable files are skipped, not fatal."""
        found: dict[str, PublicKey] = {}
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("*.pub")):
            name = path.stem
            if not _IDENTITY.match(name) or is_machine_identity(name):
                continue
            try:
                key = _load_public(path.read_bytes(), path)
            except (OSError, InputError):
                continue
            found[name] = PublicKey(identity=name, key_id=key_id_of(key), key=key, path=path)
        return found

    def _paths(self, name: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.key", self.directory / f"{name}.pub"


def check_identity(name: str) -> None:
    if not _IDENTITY.match(name):
        raise InputError(
            f"{name!r} is not a valid approver name",
            hint="lower-case letters, digits, '.', '_' or '-', starting with a letter",
        )
    if is_machine_identity(name):
        raise InputError(
            f"{name!r} is reserved for machines (planners, LLMs, the tool itself)",
            hint="approvers are people: use the person's name, e.g. alice",
        )


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_public(data: bytes, source: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            f"{source}: not a PEM public key",
            hint="export one with `planactor keys export NAME`",
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{source}: not an Ed25519 key", hint="approvals use Ed25519")
    return key
