"""Every file planactor reads is refused cleanly when it is wrong (issue 18).

Two parts. The hostile corpus (tests/data/hostile/, plus what `make_corpus.special` makes at
test time: FIFOs, /dev/zero, directories, symlink loops, files past the limit, 100k-deep
nesting, foreign and damaged journals) runs every command that reads each kind of file, in
one child process so that its peak memory can be measured. Then hypothesis mutates valid lab,
policy, routine, key and inventory documents structurally and runs the commands in this
process. Everywhere: no "internal error", a documented exit code, no hang, and no change to
a file the command was not asked to change.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planactor import InputError
from planactor._examples import example_plan_bytes
from planactor._reader import LIMITS
from planactor.catalog import parse_routine
from planactor.lab import create_lab
from planactor.policy import default_policy_text
from planactor.testing import OUTSIDE_ENV, CliRunner

DATA = Path(__file__).parent / "data" / "hostile"
sys.path.insert(0, str(DATA))
import make_corpus  # noqa: E402  (the corpus script, beside its files)

MAX_RSS_MB = 200
DOCUMENTED = {0, 1, 2, 3, 4}
SIZE_LIMITS = {
    "lab": LIMITS.lab,
    "policy": LIMITS.policy,
    "key": LIMITS.key,
    "inventory": LIMITS.inventory,
    "routine": LIMITS.routine,
    "eval_set": LIMITS.eval_set,
    "plan": LIMITS.plan,
    "journal": 32 << 20,
}
INTENT = "check the health of array-01"


def _cases(kind: str, f: str, root: Path) -> list[dict[str, Any]]:
    """The commands that read a `kind` file, each with the codes it may answer and the paths
    it must leave as they were."""
    plan, home = str(root / "plan.json"), root / "home"
    watch = [f, plan, str(home)]

    def case(*argv: str, codes: tuple[int, ...] = (2,), **extra: Any) -> dict[str, Any]:
        return {"kind": kind, "file": f, "argv": list(argv), "codes": codes, "watch": watch} | extra

    if kind == "lab":
        return [
            case("lab", "show", "--path", f),
            case("lab", "check", "--path", f),
            case("lab", "clear-faults", "--path", f),
            case("validate", plan, "--lab", f),
            case("plan", INTENT, "--planner", "routine", "--lab", f),
        ]
    if kind == "policy":
        return [
            case("policy", "show", "--policy", f),
            case("policy", "check", plan, "--policy", f),
            case("run", plan, "--dry-run", "--policy", f),
        ]
    if kind == "key":
        # The same file as a *.pub in a keys folder of its own: skipped, never a hang.
        other = root / "pub-homes" / Path(f).name
        keys = other / "keys"
        keys.mkdir(parents=True)
        shutil.copy(home / "keys" / "bob.pub", keys / "bob.pub")
        _place(Path(f), keys / "dave.pub")
        env = {"PLANACTOR_HOME": str(other)}
        name = Path(f).name
        # Not every key file here is bad for every command: a good public key is imported
        # (changing the keys folder, as asked). A good private key that is not bob's trusted
        # key cannot sign as bob (exit 3); a file of two keys is refused (exit 2).
        imports = {"public-as-private.pem"}
        signs = {"private-as-public.pem"}
        return [
            case("approve", plan, "--as", "bob", "--key", f)
            if name not in signs
            else case("approve", plan, "--as", "bob", "--key", f, codes=(3,)),
            case("keys", "import", "carol", f)
            if name not in imports
            else case("keys", "import", "carol", f, codes=(0,), watch=[f, plan]),
            case("keys", "list", codes=(0,), env=env, watch=[str(other), plan]),
            case("policy", "check", plan, codes=(0, 3), env=env, watch=[str(other), plan]),
        ]
    if kind == "inventory":
        return [
            case("validate", plan, "--inventory", f),
            case("plan", INTENT, "--planner", "routine", "--inventory", f),
        ]
    if kind == "journal":
        return [
            case("runs", "--db", f),
            case("audit", "verify", "--db", f),
            case("audit", "run-x", "--db", f),
            case("replay", "run-x", "--db", f),
            case("resume", "run-x", "--db", f),
            case("run", plan, "--dry-run", "--db", f),
        ]
    if kind == "routine":
        return [case("@routine", f)]
    if kind == "eval_set":
        return [case("eval", "planner", "--planner", "routine", "--set", f)]
    assert kind == "plan"
    return [
        case("validate", f),
        case("show", f),
        case("run", f, "--dry-run"),
        case("approve", f, "--as", "bob"),
        case("diff", f, plan),
    ]


def _place(source: Path, target: Path) -> None:
    """Put a corpus entry at `target`, keeping what makes it special (a FIFO, a link, a dir)."""
    if source.is_symlink():
        target.symlink_to(os.readlink(source))
    elif source.is_fifo():
        os.mkfifo(target)
    elif source.is_dir():
        target.mkdir()
    else:
        shutil.copy(source, target)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """The corpus copied into a fresh folder, the specials made beside it, a home with the
    approver bob, a valid plan, and every case."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "plan.json").write_bytes(example_plan_bytes())
    runner = CliRunner(home=root / "home")
    assert runner.run("keys", "new", "--name", "bob").exit_code == 0
    cases: list[dict[str, Any]] = []
    for kind in make_corpus.KINDS:
        folder = root / "corpus" / kind
        if (DATA / kind).is_dir():
            shutil.copytree(DATA / kind, folder)
        files = sorted(folder.iterdir()) if folder.exists() else []
        files += make_corpus.special(kind, folder / "special", limit=SIZE_LIMITS[kind])
        for f in files:
            if f.name in ("special", "loop-b"):
                continue
            cases += _cases(kind, str(f), root)
    return root, cases


@pytest.fixture(scope="module")
def results(corpus: tuple[Path, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every case run in one child process (planactor.testing.CliRunner), so that its peak
    memory is the commands', not this test run's."""
    root, cases = corpus
    spec = root / "spec.json"
    spec.write_text(json.dumps({"home": str(root / "home"), "cases": cases}))
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_ENV}
    done = subprocess.run(
        [sys.executable, str(DATA / "run_corpus.py"), str(spec)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=root,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: list[dict[str, Any]] = json.loads(done.stdout)
    return out


def _show(r: dict[str, Any]) -> str:
    return f"{r['kind']} {Path(r['file']).name}: {' '.join(r['argv'][:3])} -> {r['code']}"


def test_the_corpus_covers_every_kind(results: list[dict[str, Any]]) -> None:
    """The corpus feeds every kind of file, special files included (counts in the report)."""
    kinds = {r["kind"] for r in results}
    assert kinds == set(make_corpus.KINDS)
    files = {(r["kind"], r["file"]) for r in results}
    per_kind = {k: sum(1 for kind, _ in files if kind == k) for k in sorted(kinds)}
    assert all(n >= 10 for n in per_kind.values()), per_kind


def test_no_hostile_file_is_an_internal_error_or_a_hang(results: list[dict[str, Any]]) -> None:
    """No command answers a hostile file with "internal error" or blocks on it."""
    bad = [f"{_show(r)}: {r['stderr'][:160]}" for r in results if r["code"] == -1]
    bad += [f"{_show(r)}: {r['stderr'][:160]}" for r in results if "internal error" in r["stderr"]]
    assert not bad, "\n".join(bad)


def test_every_hostile_file_gets_its_documented_answer(results: list[dict[str, Any]]) -> None:
    """Each command answers with the code its case expects (2, bad input, for a hostile
    file; 0 or 3 where an unreadable *.pub is only skipped), with a message."""
    wrong = [
        f"{_show(r)} (expected {r['codes']}): {r['stderr'][:160]}"
        for r in results
        if r["code"] not in r["codes"]
    ]
    assert not wrong, "\n".join(wrong)
    silent = [_show(r) for r in results if r["code"] == 2 and not r["said"]]
    assert not silent, "\n".join(silent)


def test_no_hostile_file_changes_a_file_it_was_not_asked_to(
    results: list[dict[str, Any]],
) -> None:
    """The hostile file, the plan and the home are byte for byte as they were."""
    changed = [f"{_show(r)}: {r['changed']}" for r in results if r["changed"]]
    assert not changed, "\n".join(changed)


def test_memory_stays_bounded(results: list[dict[str, Any]]) -> None:
    """Peak resident memory over the whole corpus (/dev/zero, files past the limit, deep
    nesting, alias bombs included) stays under 200 MB."""
    worst = max(results, key=lambda r: r["rss"])
    assert worst["rss"] < MAX_RSS_MB, _show(worst)


def test_a_keys_folder_that_is_a_file_is_bad_input(tmp_path: Path) -> None:
    """A keys folder that is a file is exit 2 naming it, for commands that make or list keys."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "keys").write_text("not a folder\n")
    runner = CliRunner(home=home)
    for argv in (("keys", "new", "--name", "erin"), ("keys", "list")):
        result = runner.run(*argv)
        assert result.exit_code == 2, result.stderr
        assert "keys folder is not a directory" in result.stderr
    assert (home / "keys").read_text() == "not a folder\n"


# -- structure-aware mutations ------------------------------------------------------------------

FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([1e300, -1e300, 0.5, 2**63, -1]),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` with one to three structural changes: a value replaced (by a leaf of another
    type, a huge number, an empty container), a key removed, a value wrapped in a list or
    turned into a string."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        how = draw(st.sampled_from(["leaf", "delete", "wrap", "stringify"]))
        if how == "delete":
            del parent[key]
        elif how == "wrap":
            parent[key] = [parent[key]]
        elif how == "stringify":
            parent[key] = json.dumps(parent[key])
        else:
            parent[key] = draw(_LEAVES)
    return doc


def _storage_doc() -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        doc: dict[str, Any] = json.loads(
            create_lab(Path(d) / "l.json", kind="storage").path.read_text()
        )
    return doc


STORAGE = _storage_doc()
POLICY = yaml.safe_load(default_policy_text())
ROUTINE_TEXT = (
    resources.files("planactor.actors.storage").joinpath("routines/health_check.yaml").read_text()
)


@pytest.fixture
def fuzz_home(tmp_path: Path) -> tuple[CliRunner, Path]:
    """A home with a valid plan beside it."""
    (tmp_path / "plan.json").write_bytes(example_plan_bytes())
    return CliRunner(home=tmp_path / "home"), tmp_path


def _answered(result: Any) -> None:
    assert "internal error" not in result.stderr, result.stderr
    assert result.exit_code in DOCUMENTED, result.stderr


@FUZZ
@given(doc=mutated(STORAGE))
def test_a_mutated_lab_is_refused_at_load_or_works_everywhere(
    fuzz_home: tuple[CliRunner, Path], doc: Any
) -> None:
    """A lab file that `lab show` loads also works for `lab check`, `validate --lab` and
    `plan --lab`; one it refuses, every command refuses (exit 2), none crashes."""
    runner, tmp = fuzz_home
    lab = tmp / "lab.json"
    lab.write_text(json.dumps(doc))
    shown = runner.run("lab", "show", "--path", str(lab))
    _answered(shown)
    for argv in (
        ("lab", "check", "--path", str(lab)),
        ("validate", str(tmp / "plan.json"), "--lab", str(lab)),
        ("plan", INTENT, "--planner", "routine", "--lab", str(lab)),
    ):
        result = runner.run(*argv)
        _answered(result)
        if shown.exit_code == 2:
            assert result.exit_code == 2, (argv, result.stderr)


@FUZZ
@given(doc=mutated(POLICY))
def test_a_mutated_policy_is_an_answer(fuzz_home: tuple[CliRunner, Path], doc: Any) -> None:
    """A mutated policy is shown and judged (0 or 3) or refused (2), never a crash."""
    runner, tmp = fuzz_home
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    for argv in (
        ("policy", "show", "--policy", str(policy)),
        ("policy", "check", str(tmp / "plan.json"), "--policy", str(policy)),
    ):
        _answered(runner.run(*argv))


@FUZZ
@given(doc=mutated(yaml.safe_load(ROUTINE_TEXT)))
def test_a_mutated_routine_parses_or_is_a_catalog_error(doc: Any) -> None:
    """A mutated routine is a Routine or a CatalogError (InputError), nothing else."""
    with contextlib.suppress(InputError):  # anything else fails the test
        parse_routine(yaml.safe_dump(doc), source="mutated.yaml")


@FUZZ
@given(doc=mutated({"array": ["array-01", "array-02"], "host": ["esx-01"]}))
def test_a_mutated_inventory_is_an_answer(fuzz_home: tuple[CliRunner, Path], doc: Any) -> None:
    """`validate --inventory` answers a mutated inventory with 0 or 2, never a crash."""
    runner, tmp = fuzz_home
    inventory = tmp / "inventory.json"
    inventory.write_text(json.dumps(doc))
    result = runner.run("validate", str(tmp / "plan.json"), "--inventory", str(inventory))
    _answered(result)
    assert result.exit_code in (0, 2)


@FUZZ
@given(data=st.data())
def test_a_mutated_public_key_is_imported_or_refused(
    fuzz_home: tuple[CliRunner, Path], data: st.DataObject
) -> None:
    """A public key with bytes flipped, cut or inserted is imported (0) or refused (2)."""
    runner, tmp = fuzz_home
    pem = bytearray((DATA / "key" / "ec-public.pem").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(pem) - 1))
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip":
            pem[i] ^= data.draw(st.integers(1, 255))
        elif how == "cut":
            del pem[i:]
        else:
            pem[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        if not pem:
            break
    key = tmp / "mutated.pub"
    key.write_bytes(bytes(pem))
    result = runner.run("keys", "import", "frank", str(key))
    _answered(result)
    assert result.exit_code == 2  # an EC key, however mutated, is no Ed25519 approver key
