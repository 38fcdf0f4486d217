"""The console's token: nothing without it, and no change without it in the form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from consoletools import TOKEN
from starlette.testclient import TestClient

from planactor._errors import InputError
from planactor.console import ConsoleSettings


def _hash(client: TestClient) -> str:
    page = client.get("/plans/write.json").text
    start = page.index('id="plan-hash">') + len('id="plan-hash">')
    return page[start : page.index("<", start)]


@pytest.mark.parametrize(
    "path", ["/plans", "/plans/write.json", "/runs", "/static/console.css", "/runs/x/status.json"]
)
def test_every_page_needs_the_token(stranger: TestClient, path: str) -> None:
    """Without the token, every page and asset answers 401 and names the way in."""
    response = stranger.get(path)
    assert response.status_code == 401
    assert "?token=" in response.text


def test_a_wrong_token_is_refused(stranger: TestClient) -> None:
    """A token that is not this console's is as good as none."""
    assert stranger.get("/plans?token=" + "x" * 26).status_code == 401
    assert stranger.get("/plans", headers={"authorization": "token nope"}).status_code == 401


def test_the_token_in_the_url_sets_a_strict_cookie(stranger: TestClient) -> None:
    """Opening the URL once sets an HttpOnly SameSite=Strict cookie that later pages use."""
    first = stranger.get(f"/plans?token={TOKEN}")
    assert first.status_code == 200
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert stranger.get("/runs").status_code == 200


def test_the_token_in_a_header_is_accepted(stranger: TestClient) -> None:
    """Scripts may send `Authorization: token ...` instead."""
    assert stranger.get("/plans", headers={"authorization": f"token {TOKEN}"}).status_code == 200


def test_a_forged_post_without_the_token_is_refused(
    stranger: TestClient, client: TestClient, plans: Path
) -> None:
    """A cross-site form post (no token, no cookie) is 401 and the plan stays unapproved."""
    plan_hash = _hash(client)
    before = (plans / "write.json").read_bytes()
    response = stranger.post(
        "/plans/write.json/approve", data={"plan_hash": plan_hash, "identity": "bob"}
    )
    assert response.status_code == 401
    assert (plans / "write.json").read_bytes() == before


def test_a_post_with_the_cookie_but_not_the_form_token_is_refused(
    client: TestClient, plans: Path
) -> None:
    """The cookie alone never changes anything: the form must carry the token (403)."""
    plan_hash = _hash(client)
    response = client.post(
        "/plans/write.json/approve", data={"plan_hash": plan_hash, "identity": "bob"}
    )
    assert response.status_code == 403
    assert json.loads((plans / "write.json").read_text()).get("approvals", []) == []


def test_pages_forbid_scripts_from_elsewhere(client: TestClient) -> None:
    """Every page sends a Content-Security-Policy that allows only the console's own files."""
    csp = client.get("/plans").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp


@pytest.mark.parametrize("token", ["short", "has space in it 123456", "a;b=c" * 5])
def test_a_configured_token_must_be_plain(tmp_path: Path, token: str) -> None:
    """A configured token too short or with characters a cookie cannot carry is refused."""
    with pytest.raises(InputError, match="token"):
        ConsoleSettings(plans=tmp_path, token=token, journal=tmp_path / "j.db")


def test_the_plans_folder_must_exist(tmp_path: Path) -> None:
    """--plans naming no folder is bad input, said before serving."""
    with pytest.raises(InputError, match="not a folder"):
        ConsoleSettings(plans=tmp_path / "nope", token=TOKEN, journal=tmp_path / "j.db")


def test_every_form_that_changes_something_carries_the_token(client: TestClient) -> None:
    """The approve, reject and run forms each hold the token, as a browser will send them."""
    page = client.get("/plans/write.json").text
    for form in ("approve-form", "reject-form", "run-form"):
        body = page[page.index(f'id="{form}"') :]
        body = body[: body.index("</form>")]
        assert f'name="token" value="{TOKEN}"' in body
