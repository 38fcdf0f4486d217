"""The hostile-input corpus of tests/test_hostile_inputs.py (issue 18).

`python tests/data/hostile/make_corpus.py` rewrites the small files checked in beside this
script (one folder per kind of file: lab, policy, key, inventory, routine, eval_set, plan).
`special(kind, folder)` makes at test time what cannot or should not be checked in: FIFOs,
links to /dev/zero, directories, symlink loops, files past the size limit (sparse), 100k-deep
nesting, and SQLite journals (foreign, damaged, newer, truncated).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KINDS = ("lab", "policy", "key", "inventory", "routine", "eval_set", "plan", "journal")

_J = Callable[[dict[str, Any]], Any]


def _json(doc: Any) -> bytes:
    return (json.dumps(doc) + "\n").encode()


def _mutated(doc: dict[str, Any], change: _J) -> bytes:
    copy = json.loads(json.dumps(doc))
    out = change(copy)
    return _json(copy if out is None else out)


def _lab_docs() -> tuple[dict[str, Any], dict[str, Any]]:
    from planactor.lab import create_lab

    with tempfile.TemporaryDirectory() as d:
        storage = json.loads(create_lab(Path(d) / "s.json", kind="storage").path.read_text())
        network = json.loads(
            create_lab(Path(d) / "n.json", kind="network", scenario="built").path.read_text()
        )
    return storage, network


def _set(path: list[str | int], value: Any) -> _J:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def lab_files() -> dict[str, bytes]:
    s, n = _lab_docs()
    a0: list[str | int] = ["state", "arrays", 0]
    ctrls = s["state"]["arrays"][0]["controllers"]
    out = {
        "controllers-one.json": _mutated(s, _set([*a0, "controllers"], ctrls[:1])),
        "controllers-three.json": _mutated(s, _set([*a0, "controllers"], [*ctrls, ctrls[0]])),
        "arrays-a-string.json": _mutated(s, _set(["state", "arrays"], "array-01")),
        "operations-an-object.json": _mutated(s, _set(["operations"], {"seq": 1})),
        "unknown-kind.json": _mutated(s, _set(["kind"], "tape")),
        "latency-1e300.json": _mutated(s, _set(["latency_ms"], 1e300)),
        "latency-negative.json": _mutated(s, _set(["latency_ms"], -5)),
        "latency-a-string.json": _mutated(s, _set(["latency_ms"], "fast")),
        "seq-a-string.json": _mutated(s, _set(["seq"], "12")),
        "state-missing.json": _mutated(s, lambda d: d.pop("state") and None),
        "state-a-list.json": _mutated(s, _set(["state"], [])),
        "format-wrong.json": _mutated(s, _set(["format"], "planactor-lab/v9")),
        "faults-a-string.json": _mutated(s, _set(["faults"], "path-down")),
        "fault-unknown-kind.json": _mutated(s, _set(["faults"], [{"kind": "meteor"}])),
        "fault-times-negative.json": _mutated(
            s, _set(["faults"], [{"kind": "upgrade-fails", "controller": "x", "times": -1}])
        ),
        "fault-times-true.json": _mutated(
            s, _set(["faults"], [{"kind": "upgrade-fails", "controller": "x", "times": True}])
        ),
        "fault-not-an-object.json": _mutated(s, _set(["faults"], [7])),
        "operation-without-seq.json": _mutated(
            s, _set(["operations"], [{"op": "move_paths", "status": "applied"}])
        ),
        "operation-seq-a-float.json": _mutated(
            s, _set(["operations"], [{"seq": 1.5, "op": "x", "status": "applied"}])
        ),
        "lun-hosts-a-string.json": _mutated(s, _set([*a0, "luns", 0, "hosts"], "esx-01")),
        "size-gb-1e300.json": _mutated(s, _set([*a0, "luns", 0, "size_gb"], 1e300)),
        "controller-state-unknown.json": _mutated(s, _set([*a0, "controllers", 0, "state"], "on")),
        "controller-name-a-number.json": _mutated(s, _set([*a0, "controllers", 0, "name"], 7)),
        "mode-unknown.json": _mutated(s, _set([*a0, "mode"], "active-active")),
        "host-unknown-controller.json": _mutated(
            s, _set(["state", "hosts", 0, "paths", 0, "controller"], "nowhere")
        ),
        "host-active-unknown-array.json": _mutated(
            s, _set(["state", "hosts", 0, "active"], {"array-99": "x"})
        ),
        "host-active-a-list.json": _mutated(s, _set(["state", "hosts", 0, "active"], [])),
        "hosts-null.json": _mutated(s, _set(["state", "hosts"], None)),
        "network-switch-index-a-string.json": _mutated(
            n, _set(["state", "fabric", "switches", 0, "index"], "one")
        ),
        "network-link-unknown-switch.json": _mutated(
            n, _set(["state", "fabric", "links", 0, "a", "switch"], "ghost")
        ),
        "network-cabling-unknown-rack.json": _mutated(
            n, _set(["state", "fabric", "cabling", 0, "rack"], "rack-99")
        ),
        "network-racks-an-object.json": _mutated(n, _set(["state", "site", "racks"], {})),
        "network-asn-huge.json": _mutated(
            n, _set(["state", "fabric", "switches", 0, "asn"], 10**30)
        ),
        "network-state-of-storage.json": _mutated(s, _set(["kind"], "network")),
    }
    good = _json(s)
    out |= {
        "latin1.json": _json(s).replace(b'"default"', '"défaut"'.encode("latin-1"), 1),
        "bom.json": b"\xef\xbb\xbf" + good,
        "truncated.json": good[: len(good) // 2],
        "empty.json": b"",
        "null.json": b"null\n",
        "a-list.json": b"[]\n",
        "nan.json": good.replace(b'"latency_ms": 0', b'"latency_ms": NaN', 1),
        "1e999.json": good.replace(b'"latency_ms": 0', b'"latency_ms": 1e999', 1),
        "duplicate-state.json": good.replace(b'"state": {', b'"state": {}, "state": {', 1),
        "lone-surrogate.json": good.replace(b'"default"', b'"\\ud800"', 1),
        "nul-bytes.json": good[:40] + b"\x00\x00\x00" + good[40:],
    }
    return out


def policy_files() -> dict[str, bytes]:
    base = resources.files("planactor.policy").joinpath("default.yaml").read_bytes()
    laughs = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n".encode()
        for i in range(8)
    )
    return {
        "a-list.yaml": b"- 1\n- 2\n",
        "a-scalar.yaml": b"just words\n",
        "billion-laughs.yaml": laughs,
        "python-tag.yaml": b"version: 1\nname: !!python/object/apply:os.system ['true']\n",
        "binary-tag.yaml": b"version: 1\nname: !!binary aGVsbG8=\n",
        "custom-tag.yaml": b"version: 1\nname: !mine x\n",
        "recursive-alias.yaml": b"version: 1\nrules: &r [*r]\n",
        "duplicate-key.yaml": base + b"\nversion: 2\n",
        "unknown-field.yaml": base + b"\nsurprise: 1\n",
        "approvals-negative.yaml": b"version: 1\nname: x\napprovals: {default: -1}\n",
        "approvals-huge.yaml": b"version: 1\nname: x\napprovals: {default: " + b"9" * 400 + b"}\n",
        "rules-a-string.yaml": b"version: 1\nname: x\nrules: nothing\n",
        "latin1.yaml": "version: 1\nname: d\xe9faut\n".encode("latin-1"),
        "bom.yaml": b"\xef\xbb\xbf" + base,
        "tabs.yaml": b"version: 1\n\tname: x\n",
        "unclosed.yaml": b"version: 1\nname: [x, y\n",
        "empty.yaml": b"",
        "nul-bytes.yaml": b"version: 1\nname: \x00\n",
        "deep-flow.yaml": b"version: 1\nrules: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "many-documents.yaml": b"version: 1\n---\nversion: 2\n",
    }


def key_files() -> dict[str, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ed = Ed25519PrivateKey.generate()
    pem = ed.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pub = ed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ecc = ec.generate_private_key(ec.SECP256R1())
    return {
        "garbage.pem": b"not a key at all\n",
        "empty.pem": b"",
        "public-as-private.pem": pub,
        "private-as-public.pem": pem,
        "truncated.pem": pem[: len(pem) // 2],
        "encrypted.pem": ed.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        ),
        "ec-private.pem": ecc.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        "ec-public.pem": ecc.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "latin1.pem": "-----BEGIN PUBLIC KEY-----\n\xe9\xe9\n-----END PUBLIC KEY-----\n".encode(
            "latin-1"
        ),
        "bom.pem": b"\xef\xbb\xbf" + pub,
        "huge-body.pem": b"-----BEGIN PUBLIC KEY-----\n"
        + b"QUFB\n" * 12_000
        + b"-----END PUBLIC KEY-----\n",
        "two-keys.pem": pub + pub,
    }


def inventory_files() -> dict[str, bytes]:
    return {
        "a-list.json": b'["array-01"]\n',
        "names-a-string.json": b'{"array": "array-01"}\n',
        "names-numbers.json": b'{"array": [1, 2]}\n',
        "nan.json": b'{"array": [NaN]}\n',
        "1e999.json": b'{"array": [1e999]}\n',
        "duplicate-key.json": b'{"array": ["a"], "array": ["b"]}\n',
        "bom.json": b'\xef\xbb\xbf{"array": ["array-01"]}\n',
        "latin1.json": '{"array": ["d\xe9faut"]}\n'.encode("latin-1"),
        "truncated.json": b'{"array": ["arr',
        "empty.json": b"",
        "lone-surrogate.json": b'{"array": ["\\udc00"]}\n',
        "deep.json": b'{"array": ' + b"[" * 300 + b"]" * 300 + b"}\n",
    }


def routine_files() -> dict[str, bytes]:
    base = (
        resources.files("planactor.actors.storage")
        .joinpath("routines/health_check.yaml")
        .read_bytes()
    )
    return {
        "a-list.yaml": b"- 1\n",
        "python-tag.yaml": b"name: !!python/name:os.system x\n",
        "billion-laughs.yaml": policy_files()["billion-laughs.yaml"],
        "duplicate-key.yaml": base + b"\nname: other.name\n",
        "steps-a-string.yaml": base.replace(b"steps:", b"steps: nope\nold_steps:", 1),
        "deep-flow.yaml": b"name: x\nsteps: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "latin1.yaml": "name: d\xe9faut\n".encode("latin-1"),
        "bom.yaml": b"\xef\xbb\xbf" + base,
        "empty.yaml": b"",
        "unclosed.yaml": b"name: {x\n",
    }


def eval_set_files() -> dict[str, bytes]:
    return {
        "a-list.yaml": b"- 1\n",
        "cases-a-string.yaml": b"version: 1\ncases: none\n",
        "case-a-number.yaml": b"version: 1\ncases: [7]\n",
        "version-9.yaml": b"version: 9\ncases: []\n",
        "python-tag.yaml": b"version: 1\ncases: !!python/tuple [1]\n",
        "billion-laughs.yaml": policy_files()["billion-laughs.yaml"],
        "deep-flow.yaml": b"version: 1\ncases: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "latin1.yaml": "version: 1\ncases: [d\xe9faut]\n".encode("latin-1"),
        "bom.yaml": b"\xef\xbb\xbfversion: 1\ncases: []\n",
        "duplicate-key.yaml": b"version: 1\ncases: []\ncases: []\n",
    }


def plan_files() -> dict[str, bytes]:
    from planactor._examples import example_plan_bytes

    good = example_plan_bytes()
    doc = json.loads(good)
    deep: Any = 0
    for _ in range(300):
        deep = [deep]
    return {
        "bom.json": b"\xef\xbb\xbf" + good,
        "deep-300.json": _mutated(doc, _set(["steps", 0, "args", "deep"], deep)),
        "latin1.json": good.replace(b'"', '"\xe9'.encode("latin-1"), 1),
        "nan.json": b'{"api_version": NaN}\n',
        "truncated.json": good[: len(good) // 2],
        "a-list.json": b"[]\n",
        "empty.json": b"",
    }


SMALL: dict[str, Callable[[], dict[str, bytes]]] = {
    "lab": lab_files,
    "policy": policy_files,
    "key": key_files,
    "inventory": inventory_files,
    "routine": routine_files,
    "eval_set": eval_set_files,
    "plan": plan_files,
}


# -- made at test time -------------------------------------------------------------------------


def special(kind: str, folder: Path, *, limit: int) -> list[Path]:
    """Files of `kind` that are made, not checked in: a FIFO, a link to /dev/zero, a
    directory, a symlink loop, a sparse file one MiB past `limit`, 100k-deep nesting; for a
    journal, SQLite files that are not journals of ours."""
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    zero = folder / "dev-zero"
    zero.symlink_to("/dev/zero")
    directory = folder / "a-directory"
    directory.mkdir()
    loop = folder / "loop-a"
    loop.symlink_to(folder / "loop-b")
    (folder / "loop-b").symlink_to(loop)
    big = folder / "too-large"
    with open(big, "wb") as f:
        f.truncate(limit + (1 << 20))  # sparse: no disk, no time
    made += [fifo, zero, directory, loop, big]
    if kind in ("lab", "inventory", "plan"):
        deep = folder / "deep-100k.json"
        deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
        made.append(deep)
    elif kind in ("policy", "routine", "eval_set"):
        deep = folder / "deep-100k.yaml"
        deep.write_bytes(b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n")
        made.append(deep)
    if kind == "journal":
        made += _journals(folder)
    return made


def _journals(folder: Path) -> list[Path]:
    from planactor.journal import Journal

    foreign = folder / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers VALUES (1, 'ada')")
    db.close()
    lookalike = folder / "lookalike.db"  # our table names, another application's id
    with sqlite3.connect(lookalike) as db:
        db.execute("CREATE TABLE runs (x)")
        db.execute("CREATE TABLE events (y)")
        db.execute("PRAGMA application_id=7")
    db.close()
    ours = folder / "ours.db"
    Journal(ours).close()
    with sqlite3.connect(ours) as db:
        db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    newer = folder / "newer.db"
    newer.write_bytes(ours.read_bytes())
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version=99")
    db.close()
    data = ours.read_bytes()
    damaged = folder / "damaged.db"
    damaged.write_bytes(data[:100] + b"\xa5" * (len(data) - 100))
    truncated = folder / "truncated.db"
    truncated.write_bytes(data[:1024])
    text = folder / "text.db"
    text.write_text("these are notes, not a database\n" * 50)
    header_only = folder / "header-only.db"
    header_only.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    ours.unlink()
    return [foreign, lookalike, newer, damaged, truncated, text, header_only]


def main() -> None:
    for kind, make in SMALL.items():
        folder = HERE / kind
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, data in make().items():
            (folder / name).write_bytes(data)
        print(f"{kind}: {len(list(folder.iterdir()))} files", file=sys.stderr)


if __name__ == "__main__":
    main()
