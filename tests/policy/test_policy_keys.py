"""`planactor.policy` keys: the KeyStore, approver names, machine identities, key ids."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planactor import InputError
from planactor.policy import KeyStore, is_machine_identity, key_id_of

MACHINE_NAMES = [
    "planner",
    "llm",
    "llm-x",
    "llm.gpt4",
    "ai",
    "ai_helper",
    "bot",
    "agent",
    "model",
    "planactor",
    "system",
    "root",
]
PEOPLE = ["alice", "aiden", "botond", "rooter", "modelina", "llmanuel", "bob.smith", "c3po"]


def _ec_public_pem() -> bytes:
    """A PEM public key that is valid, but not Ed25519."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _ec_private_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(directory=tmp_path / "keys")


def test_new_creates_a_private_key_readable_only_by_its_owner(store: KeyStore) -> None:
    """`new` writes NAME.key with mode 0600 and NAME.pub, and returns the key id."""
    key = store.new("alice")
    private_path = store.directory / "alice.key"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert key.path == store.directory / "alice.pub"
    assert key.identity == "alice"
    private = store.private("alice")
    assert key_id_of(private.public_key()) == key.key_id
    assert key.key_id.startswith("ed25519:")
    assert len(key.key_id) == len("ed25519:") + 64
    assert b"PRIVATE KEY" in private_path.read_bytes()
    assert b"PUBLIC KEY" in key.path.read_bytes()


def test_new_makes_a_different_key_for_each_name(store: KeyStore) -> None:
    """Two approvers never share a key pair."""
    assert store.new("alice").key_id != store.new("bob").key_id


@pytest.mark.parametrize("existing", ["alice.key", "alice.pub"])
def test_new_refuses_to_overwrite_a_key(store: KeyStore, existing: str) -> None:
    """An existing private or public key under the name is never replaced."""
    store.new("alice")
    before = (store.directory / existing).read_bytes()
    (store.directory / ("alice.pub" if existing == "alice.key" else "alice.key")).unlink()
    with pytest.raises(InputError, match="already exists") as exc:
        store.new("alice")
    assert exc.value.hint is not None
    assert (store.directory / existing).read_bytes() == before


@pytest.mark.parametrize(
    "name", ["Alice", "1bob", "", "a b", "-x", "x" * 65, "alice/../bob", "bob!", "é"]
)
def test_new_refuses_a_malformed_name(store: KeyStore, name: str) -> None:
    """Approver names are lower-case letters, digits and . _ -, starting with a letter."""
    with pytest.raises(InputError, match="not a valid approver name"):
        store.new(name)
    assert not store.directory.exists()


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_new_refuses_a_machine_name(store: KeyStore, name: str) -> None:
    """Planners, LLMs, bots and the tool itself cannot hold an approver key."""
    with pytest.raises(InputError, match="reserved for machines"):
        store.new(name)


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_machine_identities_are_recognised_in_any_case(name: str) -> None:
    """is_machine_identity holds for reserved names and their suffixed forms, any case."""
    assert is_machine_identity(name)
    assert is_machine_identity(name.upper())


@pytest.mark.parametrize("name", PEOPLE)
def test_people_whose_names_start_like_a_machine_are_not_machines(
    store: KeyStore, name: str
) -> None:
    """Only whole words are reserved: aiden or botond are people and may approve."""
    assert not is_machine_identity(name)
    assert store.new(name).identity == name


def test_export_import_round_trip_keeps_the_key_id(tmp_path: Path) -> None:
    """A public key imported elsewhere is trusted there under the same key id."""
    mine = KeyStore(directory=tmp_path / "mine")
    theirs = KeyStore(directory=tmp_path / "theirs")
    created = mine.new("alice")
    imported = theirs.import_public("alice", created.path)
    assert imported.key_id == created.key_id
    assert theirs.trusted()["alice"].key_id == created.key_id
    assert not (theirs.directory / "alice.key").exists()
    # Importing the same key again is harmless.
    assert theirs.import_public("alice", created.path).key_id == created.key_id


def test_import_refuses_a_different_key_under_an_existing_name(tmp_path: Path) -> None:
    """A second key for a trusted name is refused: a rotation is done on purpose."""
    store = KeyStore(directory=tmp_path / "keys")
    store.new("alice")
    before = (store.directory / "alice.pub").read_bytes()
    other = KeyStore(directory=tmp_path / "other").new("alice")
    with pytest.raises(InputError, match="different key") as exc:
        store.import_public("alice", other.path)
    assert exc.value.hint is not None
    assert (store.directory / "alice.pub").read_bytes() == before


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n", "not a PEM"),
        (b"hello", "not a PEM"),
        (b"", "not a PEM"),
        (None, "not an Ed25519 key"),
    ],
)
def test_import_refuses_garbage_and_non_ed25519_keys(
    store: KeyStore, tmp_path: Path, data: bytes | None, reason: str
) -> None:
    """Garbage, an empty file or an EC public key is an InputError naming the file."""
    source = tmp_path / "their.pub"
    source.write_bytes(_ec_public_pem() if data is None else data)
    with pytest.raises(InputError, match=reason) as exc:
        store.import_public("bob", source)
    assert str(source) in exc.value.message
    assert not (store.directory / "bob.pub").exists()


def test_a_key_file_with_two_keys_is_refused(store: KeyStore, tmp_path: Path) -> None:
    """A .pub holding two PEM blocks (the loader would take the first, unseen) is refused
    on import, and a private key file of two keys cannot sign."""
    first, second = KeyStore(directory=tmp_path / "a"), KeyStore(directory=tmp_path / "b")
    first.new("x")
    second.new("x")
    both = tmp_path / "both.pub"
    both.write_bytes(
        (tmp_path / "a" / "x.pub").read_bytes() + (tmp_path / "b" / "x.pub").read_bytes()
    )
    with pytest.raises(InputError, match="holds 2 PEM blocks") as exc:
        store.import_public("bob", both)
    assert exc.value.hint is not None
    assert not (store.directory / "bob.pub").exists()
    keys = tmp_path / "both.key"
    keys.write_bytes(
        (tmp_path / "a" / "x.key").read_bytes() + (tmp_path / "b" / "x.key").read_bytes()
    )
    with pytest.raises(InputError, match="holds 2 PEM blocks"):
        store.private("x", path=keys)


def test_import_of_a_missing_file_is_an_input_error(store: KeyStore, tmp_path: Path) -> None:
    """A public key file that does not exist is named, not a traceback."""
    with pytest.raises(InputError, match="cannot read"):
        store.import_public("bob", tmp_path / "nope.pub")


def test_import_refuses_a_machine_name(store: KeyStore, tmp_path: Path) -> None:
    """A colleague's key cannot be trusted under a machine's name either."""
    created = KeyStore(directory=tmp_path / "other").new("alice")
    with pytest.raises(InputError, match="reserved for machines"):
        store.import_public("llm-judge", created.path)


def test_private_of_a_missing_key_says_how_to_make_one(store: KeyStore) -> None:
    """Asking for a key that does not exist is an InputError pointing at `keys new`."""
    with pytest.raises(InputError, match="no private key for 'alice'") as exc:
        store.private("alice")
    assert exc.value.hint is not None
    assert "keys new --name alice" in exc.value.hint


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"garbage", "not an unencrypted PEM private key"), (None, "not an Ed25519 key")],
)
def test_private_refuses_garbage_and_non_ed25519_keys(
    store: KeyStore, tmp_path: Path, data: bytes | None, reason: str
) -> None:
    """A private key file that is garbage or an EC key is refused with InputError."""
    path = tmp_path / "key.pem"
    path.write_bytes(_ec_private_pem() if data is None else data)
    with pytest.raises(InputError, match=reason):
        store.private("alice", path=path)


def test_private_reads_an_explicit_path(store: KeyStore, tmp_path: Path) -> None:
    """`--key FILE`: a key outside the store is read from its path."""
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "elsewhere.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    loaded = store.private("alice", path=path)
    assert key_id_of(loaded.public_key()) == key_id_of(key.public_key())


def test_trusted_lists_every_good_public_key_and_skips_the_rest(store: KeyStore) -> None:
    """trusted() reads every NAME.pub; garbage, machine and malformed names are skipped."""
    alice = store.new("alice")
    bob = store.new("bob")
    (store.directory / "carol.pub").write_text("not a key")
    (store.directory / "planner.pub").write_bytes(alice.path.read_bytes())
    (store.directory / "Dave.pub").write_bytes(alice.path.read_bytes())
    (store.directory / "erin.pub").write_bytes(_ec_public_pem())
    trusted = store.trusted()
    assert set(trusted) == {"alice", "bob"}
    assert trusted["bob"].key_id == bob.key_id


def test_trusted_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    """No key directory yet means no trusted approvers, not an error."""
    assert KeyStore(directory=tmp_path / "none").trusted() == {}


def test_store_defaults_to_planactor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a directory, keys live in $PLANACTOR_HOME/keys."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    key = KeyStore().new("alice")
    assert key.path == tmp_path / "home" / "keys" / "alice.pub"


# -- one key, one approver, one readable name (issue 17, items 2 and 3) --------------------


def test_a_key_already_trusted_cannot_be_imported_under_another_name(store: KeyStore) -> None:
    """`keys import erin alice.pub` is refused: alice would count as two approvers."""
    alice = store.new("alice")
    with pytest.raises(InputError, match="already trusted as 'alice'") as exc:
        store.import_public("erin", alice.path)
    assert str(alice.path) in exc.value.message
    assert "one key is one approver" in exc.value.message
    assert not (store.directory / "erin.pub").exists()
    assert set(store.trusted()) == {"alice"}


def test_a_keys_folder_where_two_files_hold_one_key_is_refused(store: KeyStore) -> None:
    """alice.pub copied to dave.pub: trusted() refuses the folder, naming both files, rather
    than count alice twice or guess which name is hers."""
    alice = store.new("alice")
    store.new("carol")
    dave = store.directory / "dave.pub"
    dave.write_bytes(alice.path.read_bytes())
    with pytest.raises(InputError) as exc:
        store.trusted()
    assert exc.value.exit_code == 2
    assert f"{alice.path} and {dave} hold the same public key" in exc.value.message
    assert "count as two approvers, alice and dave" in exc.value.message
    assert exc.value.hint is not None


@pytest.mark.parametrize(
    "name", ["alice\n", "alice\u200b", "\u0430lice", "\uff41lice", "alice ", "al\u0131ce"]
)
def test_a_name_is_matched_whole_and_in_plain_ascii(store: KeyStore, name: str) -> None:
    """`keys new --name $'alice\\n'` and other names that read as alice are refused (the old
    pattern ended in `$`, which matches before a final newline)."""
    with pytest.raises(InputError, match="not a valid approver name"):
        store.new(name)
    assert not store.directory.exists()


def test_a_key_file_whose_name_is_not_plain_is_not_trusted(store: KeyStore) -> None:
    """A `alice\\n.pub` dropped in the folder is no approver."""
    alice = store.new("alice")
    (store.directory / "carol\n.pub").write_bytes(store.new("carol").path.read_bytes())
    (store.directory / "carol.pub").unlink()
    assert set(store.trusted()) == {"alice"}
    assert alice.identity == "alice"


def test_a_name_that_reads_like_a_trusted_approver_is_refused(store: KeyStore) -> None:
    """`a1ice` or `rnallory` beside alice or mallory: a reader would take one for the other."""
    store.new("alice")
    store.new("mallory")
    for name in ("a1ice", "rnallory"):
        with pytest.raises(InputError, match="reads like the trusted approver"):
            store.new(name)
    other = KeyStore(directory=store.directory.parent / "other").new("erin")
    with pytest.raises(InputError, match="reads like the trusted approver 'alice'"):
        store.import_public("a1ice", other.path)


@pytest.mark.parametrize("name", ["\uff41i", "\u0430i", "b0t", "rnodel"])
def test_a_machine_name_in_disguise_is_still_a_machine(name: str) -> None:
    """Fullwidth, look-alike or ASCII-confusable spellings of a reserved name are reserved."""
    assert is_machine_identity(name)
