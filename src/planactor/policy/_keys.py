"""Approver keys: Ed25519 key pairs kept under `$PLANACTOR_HOME/keys`.

`NAME.key` is the private key (PKCS#8 PEM, mode 0600) and exists only on the approver's
machine; `NAME.pub` is the public key (SubjectPublicKeyInfo PEM). Every `.pub` file in the
directory is a trusted approver: trusting a colleague means importing their `.pub`.

One key is one approver. A key trusted under two names would let one person approve twice,
so importing a key already trusted under another name is refused, and a directory where two
`.pub` files hold the same key is refused as a whole (InputError naming both files) rather
than guessing which name is the real one.
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

from planactor._errors import ApprovalRequired, InputError
from planactor._home import home
from planactor._reader import LIMITS, read_text
from planactor.plan import IDENTITY_PATTERN, identity_key, identity_problem

__all__ = ["IDENTITY_PATTERN", "KeyStore", "PublicKey", "is_machine_identity", "key_id_of"]

# Identities a planner, an LLM or the tool itself might use. None of them may hold an
# approver key: a plan is approved by a person, never by what produced it.
_MACHINE = re.compile(r"(planner|llm|ai|agent|bot|model|planactor|system|root)([._-].*)?", re.S)


def is_machine_identity(name: str) -> bool:
    # Compared as read: `ＡＩ` or `аi` (Cyrillic а) is still the machine name `ai`.
    return bool(_MACHINE.fullmatch(identity_key(name)) or _MACHINE.fullmatch(name.lower()))


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
        self._check_lookalike(name)
        private_path, public_path = self._paths(name)
        if private_path.exists() or public_path.exists():
            raise InputError(
                f"a key named {name!r} already exists in {self.directory}",
                hint="pick another name, or remove the old key files on purpose",
            )
        self._make_directory()
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
        self._check_lookalike(name)
        key = _load_public(_read_key(source, "public key"), source)
        key_id = key_id_of(key)
        for other in self.trusted().values():
            if other.key_id == key_id and other.identity != name:
                raise InputError(
                    f"{source} holds the key already trusted as {other.identity!r} "
                    f"({other.path}); one key is one approver, under one name",
                    hint=f"if {name} is a different person, ask them for their own public key",
                )
        _, public_path = self._paths(name)
        if public_path.exists() and _read_key(public_path, "public key") != _public_pem(key):
            raise InputError(
                f"{name!r} is already trusted with a different key ({public_path})",
                hint="remove the old .pub file on purpose if the key was rotated",
            )
        self._make_directory()
        public_path.write_bytes(_public_pem(key))
        return PublicKey(identity=name, key_id=key_id_of(key), key=key, path=public_path)

    # -- reading ---------------------------------------------------------------------------

    def private(self, name: str, *, path: Path | None = None) -> Ed25519PrivateKey:
        """`name`'s private key, from the store or from an explicit `path`."""
        source = path or self._paths(name)[0]
        if not os.path.lexists(source):
            raise InputError(
                f"no private key for {name!r} at {source}",
                hint=f"create one with `planactor keys new --name {name}`",
            )
        data = _read_key(source, "private key")
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

    def signing_key(
        self, name: str, *, path: Path | None = None, trusted_only: bool = False
    ) -> Ed25519PrivateKey:
        """`name`'s private key for signing (from the store, or `path`), refused (exit 3)
        when `name` is trusted here with another key: a signature by it would never verify,
        yet the plan would look approved by `name`. `trusted_only` refuses a name that is
        not trusted here at all (a console signs only as trusted approvers)."""
        private = self.private(name, path=path)
        trusted = self.trusted().get(name)
        if trusted is None and not trusted_only:
            return private
        if trusted is None or key_id_of(private.public_key()) != trusted.key_id:
            where = str(path) if path else f"your key store ({self.directory})"
            held = f" ({trusted.path}, key id {trusted.key_id})" if trusted else " (no .pub)"
            raise ApprovalRequired(
                f"the key in {where} is not the key trusted here as {name!r}{held}: an "
                "approval signed with it would not verify",
                hint=f"sign with {name}'s own key; if that key was rotated, remove the old "
                f".pub file on purpose and `planactor keys import {name} NEW.pub`",
            )
        return private

    def trusted(self) -> dict[str, PublicKey]:
        """Every trusted approver, by identity. Unreadable files are skipped, not fatal; a
        key held by two `.pub` files is (InputError): one key may not be two approvers."""
        found: dict[str, PublicKey] = {}
        if not self.directory.exists():
            return found
        self._check_directory()
        by_key: dict[str, PublicKey] = {}
        for path in sorted(self.directory.glob("*.pub")):
            name = path.stem
            if identity_problem(name) is not None or is_machine_identity(name):
                continue
            try:  # bounded, regular files only: a FIFO named x.pub must not hang every run
                key = _load_public(_read_key(path, "public key"), path)
            except InputError:
                continue
            entry = PublicKey(identity=name, key_id=key_id_of(key), key=key, path=path)
            first = by_key.get(entry.key_id)
            if first is not None:
                raise InputError(
                    f"{first.path} and {path} hold the same public key ({entry.key_id[:23]}…): "
                    f"one key would count as two approvers, {first.identity} and {name}",
                    hint="remove the .pub file of the name that is not the key's owner",
                )
            by_key[entry.key_id] = entry
            found[name] = entry
        return found

    def _check_lookalike(self, name: str) -> None:
        """Refuse `a1ice` beside `alice`: a reader of the approvals would take one for the other."""
        for other in self.trusted():
            if other != name and identity_key(other) == identity_key(name):
                raise InputError(
                    f"{name!r} reads like the trusted approver {other!r}",
                    hint="pick a name nobody could mistake for another approver's",
                )

    def _check_directory(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise InputError(
                f"{self.directory}: the keys folder is not a directory",
                hint="move the file away; `planactor keys new` creates the folder",
            )

    def _make_directory(self) -> None:
        self._check_directory()
        self.directory.mkdir(parents=True, exist_ok=True)

    def _paths(self, name: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.key", self.directory / f"{name}.pub"


def check_identity(name: str) -> None:
    problem = identity_problem(name)
    if problem is not None:
        raise InputError(
            problem,
            hint="lower-case ASCII letters, digits, '.', '_' or '-', starting with a letter "
            "(at most 64)",
        )
    if is_machine_identity(name):
        raise InputError(
            f"{name!r} is reserved for machines (planners, LLMs, the tool itself)",
            hint="approvers are people: use the person's name, e.g. alice",
        )


def _read_key(path: Path, what: str) -> bytes:
    """A PEM file of exactly one key: bounded, regular, UTF-8 text without a BOM
    (planactor._reader). The PEM loader reads the first block and ignores the rest, so a
    file of two keys would trust (or sign with) whichever came first, unseen: refused."""
    text = read_text(path, what=what, max_bytes=LIMITS.key, label="cannot read")
    blocks = text.count("-----BEGIN ")
    if blocks > 1:
        raise InputError(
            f"{path}: holds {blocks} PEM blocks; a key file holds exactly one key",
            hint="split it into one file per key, each imported under its own name",
        )
    return text.encode()


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
