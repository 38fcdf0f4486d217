"""Kind `http` against a real HTTP server in the test: a Redfish-like firmware endpoint that
honours Idempotency-Key, retries on 503, refusal on 4xx, redirects, dry runs, and secrets
that never reach the journal or an audit report."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clitools import run
from planactor import ActorError, Catalog, Plan
from planactor.catalog import PACKS_ENV, ActorContext
from planactor.cli._app import catalog as cli_catalog
from planactor.engine import Engine
from planactor.journal import Journal

MakePack = Callable[..., Path]
TOKEN = "tok-9f8e7d6c5b4a-secret"
UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"

PACK = """\
    name: bmc
    actors:
      - name: bmc.update_firmware
        description: Flash a firmware image onto a component (Redfish SimpleUpdate).
        kind: http
        effect: write
        idempotent: true
        irreversible: true
        retry: {attempts: 3, backoff_s: 0}
        input:
          component: {type: string, pattern: "^[A-Za-z0-9._/-]+$"}
          image: string
        output:
          TaskId: string
          Version: string
          Echo: string?
        http:
          method: POST
          base_url_env: BMC_URL
          path: /redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate
          headers: {Authorization: "Bearer {secret.token}"}
          body:
            ImageURI: "{image}"
            Targets: ["/redfish/v1/UpdateService/FirmwareInventory/{component}"]
          secrets: {token: {env: BMC_TOKEN}}
          check:
            method: GET
            path: /redfish/v1/UpdateService/FirmwareInventory/{component}
            headers: {Authorization: "Bearer {secret.token}"}
      - name: bmc.get
        kind: http
        effect: read
        input: {path: string}
        output: {Version: "string?"}
        http:
          base_url_env: BMC_URL
          path: "/{path}"
      - name: bmc.update_from_file
        kind: http
        effect: write
        irreversible: true
        input: {image: string}
        output: {Version: string}
        http:
          method: POST
          base_url_env: BMC_URL
          path: /redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate
          headers: {Authorization: "Bearer {secret.token}"}
          body: {ImageURI: "{image}", Targets: [/x/BIOS]}
          secrets: {token: {file: secrets/token}}
      - name: bmc.reset
        kind: http
        effect: write
        irreversible: true
        input: {component: string}
        http:
          method: POST
          base_url_env: BMC_URL
          path: /redfish/v1/Systems/{component}/Actions/Reset
    """


@dataclass
class Bmc:
    """The fake BMC's state: firmware versions, applied updates, requests seen."""

    versions: dict[str, str] = field(default_factory=lambda: {"BIOS": "1.0"})
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Idempotency-Key
    applied: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    url: str = ""


def _handler(bmc: Bmc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            bmc.requests.append(("GET", self.path, self.headers.get("Idempotency-Key")))
            if self.path == "/elsewhere":
                # Same port, another host name: another origin.
                port = self.server.server_address[1]
                self._send(302, {}, {"Location": f"http://localhost:{port}/stolen"})
            elif self.path == "/moved":
                self._send(
                    302, {}, {"Location": "/redfish/v1/UpdateService/FirmwareInventory/BIOS"}
                )
            elif self.path.startswith("/redfish/v1/UpdateService/FirmwareInventory/"):
                name = self.path.rsplit("/", 1)[1]
                if name not in bmc.versions:
                    self._send(404, {"error": f"no component {name}"})
                else:
                    self._send(200, {"Version": bmc.versions[name]})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            key = self.headers.get("Idempotency-Key")
            bmc.requests.append(("POST", self.path, key))
            auth = self.headers.get("Authorization", "")
            length = int(self.headers.get("Content-Length", "0"))
            doc = json.loads(self.rfile.read(length) or b"{}")
            if bmc.fail_next:
                self._send(bmc.fail_next.pop(0), {"error": "busy", "echo": auth})
                return
            if self.path != UPDATE:
                self._send(404, {"error": "not found"})
                return
            if auth != f"Bearer {TOKEN}":
                self._send(401, {"error": f"bad credentials {auth}"})
                return
            if key and key in bmc.answered:  # the same request again: the same answer
                self._send(202, bmc.answered[key])
                return
            image = str(doc.get("ImageURI", ""))
            if not image.endswith(".bin"):
                self._send(400, {"error": f"not a firmware image: {image}"})
                return
            component = doc["Targets"][0].rsplit("/", 1)[1]
            version = image.rsplit("-", 1)[-1].removesuffix(".bin")
            bmc.versions[component] = version
            bmc.applied.append(image)
            answer = {"TaskId": f"task-{len(bmc.applied)}", "Version": version, "Echo": auth}
            if key:
                bmc.answered[key] = answer
            self._send(202, answer)

    return Handler


@pytest.fixture
def bmc(monkeypatch: pytest.MonkeyPatch) -> Iterator[Bmc]:
    state = Bmc()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("BMC_URL", state.url)
    monkeypatch.setenv("BMC_TOKEN", TOKEN)
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def pack(make_pack: MakePack) -> Path:
    return make_pack(PACK, {"secrets/token": TOKEN + "\n"})


@pytest.fixture
def cat(pack: Path) -> Catalog:
    return Catalog.discover(packs=[pack])


def _plan(actor: str, args: dict[str, Any], **step: Any) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "update firmware",
            "requested_by": "alice",
            "steps": [{"id": "fw", "actor": actor, "args": args, **step}],
        }
    )


def _engine(cat: Catalog, journal: Journal) -> Engine:
    return Engine(catalog=cat, journal=journal, sleep=lambda _: None)


def test_an_update_sends_the_idempotency_key_and_applies_once(bmc: Bmc, cat: Catalog) -> None:
    """The key travels as Idempotency-Key; the same call again is answered, not re-applied."""
    a = cat.get("bmc.update_firmware")
    ctx = ActorContext.for_step(run_id="r1", step_id="fw")
    args = {"component": "BIOS", "image": "https://repo/bios-2.1.bin"}
    first = a.call(args, ctx).model_dump()
    again = a.call(args, ctx).model_dump()
    assert first == again
    assert first["TaskId"] == "task-1"
    assert first["Version"] == "2.1"
    assert first["status"] == 202
    assert bmc.applied == ["https://repo/bios-2.1.bin"]
    assert [r[2] for r in bmc.requests] == ["r1/fw", "r1/fw"]


def test_503_is_retried_with_the_same_key(bmc: Bmc, cat: Catalog) -> None:
    """Two 503s then success: the engine tries three times, each with the same key."""
    bmc.fail_next = [503, 503]
    with Journal(":memory:") as journal:
        result = _engine(cat, journal).run(
            _plan("bmc.update_firmware", {"component": "BIOS", "image": "bios-3.0.bin"})
        )
    assert result.status == "succeeded"
    assert result.steps["fw"].attempts == 3
    assert {r[2] for r in bmc.requests} == {f"{result.run_id}/fw"}
    assert bmc.applied == ["bios-3.0.bin"]


def test_a_4xx_is_final_and_not_retried(bmc: Bmc, cat: Catalog) -> None:
    """A 400 fails the step at its first attempt, with the server's reason; the run pauses."""
    with Journal(":memory:") as journal:
        result = _engine(cat, journal).run(
            _plan("bmc.update_firmware", {"component": "BIOS", "image": "bios.txt"})
        )
    assert result.status == "paused"
    assert result.steps["fw"].attempts == 1
    assert "answered 400" in (result.reason or "")
    assert "not a firmware image" in (result.reason or "")
    assert bmc.applied == []


def test_status_mapping_of_a_direct_call(bmc: Bmc, cat: Catalog) -> None:
    """429 and 5xx are retryable, 4xx final; the error names method and path, not the query."""
    a = cat.get("bmc.update_firmware")
    ctx = ActorContext.for_step(run_id="r1", step_id="fw")
    for status, retryable in ((429, True), (500, True), (503, True), (404, False), (409, False)):
        bmc.fail_next = [status]
        with pytest.raises(ActorError) as exc:
            a.call({"component": "BIOS", "image": "x.bin"}, ctx)
        assert exc.value.retryable is retryable, status
        assert f"POST {UPDATE} answered {status}" in exc.value.message


def test_a_redirect_to_another_host_is_refused(bmc: Bmc, cat: Catalog) -> None:
    """A 302 to another origin is refused (final); one to the same origin is followed."""
    get = cat.get("bmc.get")
    ctx = ActorContext.for_step(run_id="r1", step_id="g")
    with pytest.raises(ActorError) as exc:
        get.call({"path": "elsewhere"}, ctx)
    assert "another origin" in exc.value.message
    assert not exc.value.retryable
    assert not any(r[1] == "/stolen" for r in bmc.requests)
    assert get.call({"path": "moved"}, ctx).model_dump()["Version"] == "1.0"


def test_an_argument_cannot_add_path_segments(bmc: Bmc, cat: Catalog) -> None:
    """Path values are percent-encoded: `../x` or `a?b=c` stay inside one segment."""
    get = cat.get("bmc.get")
    ctx = ActorContext.for_step(run_id="r1", step_id="g")
    with pytest.raises(ActorError):
        get.call({"path": "../redfish/v1/UpdateService/FirmwareInventory/BIOS?x=1"}, ctx)
    assert bmc.requests[-1][1] == (
        "/..%2Fredfish%2Fv1%2FUpdateService%2FFirmwareInventory%2FBIOS%3Fx%3D1"
    )


def test_an_argument_is_not_a_template(bmc: Bmc, cat: Catalog) -> None:
    """A value spelling `{secret.token}` is sent as those characters, never as the secret."""
    a = cat.get("bmc.update_firmware")
    ctx = ActorContext.for_step(run_id="r1", step_id="fw")
    with pytest.raises(ActorError) as exc:
        a.call({"component": "BIOS", "image": "{secret.token}"}, ctx)
    assert "not a firmware image: {secret.token}" in exc.value.message


def test_a_dry_run_sends_the_check_request_only(bmc: Bmc, cat: Catalog) -> None:
    """Dry run: the declared check (a GET, without Idempotency-Key) is reported; no POST."""
    with Journal(":memory:") as journal:
        result = _engine(cat, journal).run(
            _plan("bmc.update_firmware", {"component": "BIOS", "image": "bios-2.1.bin"}),
            dry_run=True,
        )
    assert result.status == "succeeded"
    assert "would change" in (result.steps["fw"].note or "")
    assert "'Version': '1.0'" in (result.steps["fw"].note or "")
    assert bmc.requests == [("GET", "/redfish/v1/UpdateService/FirmwareInventory/BIOS", None)]


def test_without_a_check_a_dry_run_is_not_simulated(bmc: Bmc, cat: Catalog) -> None:
    """An http write with no check request is reported as not simulated, and not called."""
    with Journal(":memory:") as journal:
        result = _engine(cat, journal).run(_plan("bmc.reset", {"component": "1"}), dry_run=True)
    assert "not simulated" in (result.steps["fw"].note or "")
    assert bmc.requests == []


def test_a_missing_base_url_is_a_final_error(
    bmc: Bmc, cat: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """base_url_env unset: a final error naming the variable, no request sent."""
    monkeypatch.delenv("BMC_URL")
    with pytest.raises(ActorError) as exc:
        cat.get("bmc.reset").call(
            {"component": "1"}, ActorContext.for_step(run_id="r", step_id="s")
        )
    assert "BMC_URL" in exc.value.message
    assert not exc.value.retryable


def test_secrets_never_reach_the_journal_or_the_audit(
    bmc: Bmc,
    pack: Path,
    cat: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The token the server echoes (in a 503 body, an error, the output) is *** everywhere:
    every journal row, and the audit report in json and md."""
    db = tmp_path / "journal.db"
    bmc.fail_next = [503]
    with Journal(db) as journal:
        ok = _engine(cat, journal).run(
            _plan("bmc.update_firmware", {"component": "BIOS", "image": "bios-2.2.bin"})
        )
        monkeypatch.setenv("BMC_TOKEN", "another-wrong-token-77")
        bad = _engine(cat, journal).run(
            _plan("bmc.update_firmware", {"component": "BIOS", "image": "bios-2.3.bin"})
        )
    assert ok.status == "succeeded"
    assert ok.steps["fw"].output is not None
    assert ok.steps["fw"].output["Echo"] == "Bearer ***"
    assert bad.status == "paused"
    assert "bad credentials Bearer ***" in (bad.reason or "")
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert TOKEN not in dump
    assert "another-wrong-token-77" not in dump
    assert "Bearer ***" in dump
    monkeypatch.setenv(PACKS_ENV, str(pack))
    cli_catalog.cache_clear()
    for run_id in (ok.run_id, bad.run_id):
        for fmt in ("json", "md"):
            # Unapproved engine runs: the audit says so (exit 1), and still reports them.
            code, out, err = run(capsys, "audit", run_id, "--format", fmt, "--db", str(db))
            assert code in (0, 1), err
            assert run_id in out
            assert TOKEN not in out
            assert "another-wrong-token-77" not in out


def test_a_secret_may_come_from_a_file_in_the_pack(bmc: Bmc, cat: Catalog, pack: Path) -> None:
    """{file: PATH} reads the secret (without its newline) when the call needs it; a missing
    file is a final error naming it."""
    a = cat.get("bmc.update_from_file")
    ctx = ActorContext.for_step(run_id="r1", step_id="f")
    assert a.call({"image": "bios-4.0.bin"}, ctx).model_dump()["Version"] == "4.0"
    (pack / "secrets" / "token").unlink()
    with pytest.raises(ActorError) as exc:
        a.call({"image": "bios-4.1.bin"}, ActorContext.for_step(run_id="r2", step_id="f"))
    assert "secrets/token" in exc.value.message
    assert not exc.value.retryable


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_any_path_value_stays_one_segment(bmc: Bmc, cat: Catalog, value: str) -> None:
    """Whatever the string, the server sees one path segment that decodes back to it."""
    get = cat.get("bmc.get")
    with contextlib.suppress(ActorError):  # 404 for nearly every value: not the point
        get.call({"path": value}, ActorContext.for_step(run_id="r", step_id="g"))
    raw = bmc.requests[-1][1]
    assert raw.count("/") == 1
    assert unquote(raw[1:]) == value
