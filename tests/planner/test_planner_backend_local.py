"""planactor.planner._backend_local: the shipped SmolLM2-135M GGUF, run for real in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_cases import MESSAGES, SCHEMA, check_answer, clear_backend_env

from planactor import InputError
from planactor.planner import Backend, BackendError, LocalBackend, get_backend, prompt_hash


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the configuration it sets itself."""
    clear_backend_env(monkeypatch)


def test_local_backend_returns_json_valid_against_the_schema() -> None:
    """The shipped model, grammar-constrained, answers with the schema's enum and string."""
    backend = get_backend("local")
    assert isinstance(backend, Backend)
    c = backend.complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    check_answer(c.text)
    assert (c.backend, c.model) == ("local", "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert c.tokens_in > 0
    assert c.tokens_out > 0
    assert c.latency_s > 0
    assert c.cost_usd == 0.0
    assert c.cost_note is None
    assert c.prompt_hash == prompt_hash(MESSAGES, SCHEMA)


def test_local_backend_is_deterministic() -> None:
    """Temperature 0 and a fixed seed: two calls, even through two backends, answer the same."""
    first = LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    second = LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    assert first.text == second.text
    assert (first.tokens_in, first.tokens_out) == (second.tokens_in, second.tokens_out)


def test_local_backend_without_schema_returns_free_text() -> None:
    """No schema, no grammar: the text comes back as the model wrote it."""
    c = LocalBackend().complete([{"role": "user", "content": "Say hi."}], max_tokens=8)
    assert isinstance(c.text, str)
    assert 0 < c.tokens_out <= 8


def test_local_backend_stops_at_its_deadline() -> None:
    """A deadline that has passed stops generation at the next token: a BackendError."""
    with pytest.raises(BackendError, match="did not finish within") as e:
        LocalBackend().complete(MESSAGES, schema=SCHEMA, timeout_s=1e-9)
    assert e.value.exit_code == 1


def test_local_backend_reports_json_cut_off_by_max_tokens() -> None:
    """Too few tokens for the JSON to close gives an error that says to raise max_tokens."""
    with pytest.raises(BackendError, match="max_tokens") as e:
        LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=3)
    assert e.value.hint is not None
    assert "max_tokens" in e.value.hint


def test_missing_model_file_names_the_path_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PLANACTOR_MODEL pointing at nothing is bad input naming the path and the variable."""
    missing = tmp_path / "nope.gguf"
    monkeypatch.setenv("PLANACTOR_MODEL", str(missing))
    with pytest.raises(InputError, match="does not exist") as e:
        get_backend("local")
    assert str(missing) in e.value.message
    assert "PLANACTOR_MODEL" in e.value.message
    assert e.value.exit_code == 2


def test_text_file_is_not_a_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file without the GGUF magic is refused before llama.cpp sees it."""
    text = tmp_path / "model.gguf"
    text.write_text("this is not a model\n")
    monkeypatch.setenv("PLANACTOR_MODEL", str(text))
    with pytest.raises(InputError, match="not a GGUF file") as e:
        LocalBackend()
    assert str(text) in e.value.message
    assert e.value.hint is not None
    assert "--model" in e.value.hint


def test_corrupt_gguf_is_input_error_at_first_call(tmp_path: Path) -> None:
    """A file with the GGUF magic but no model in it is refused when llama.cpp loads it."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    backend = LocalBackend(model_path=broken)
    with pytest.raises(InputError, match="not a usable GGUF model") as e:
        backend.complete(MESSAGES, schema=SCHEMA)
    assert str(broken) in e.value.message


def test_model_argument_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--model PATH (the model argument) is used even when PLANACTOR_MODEL is set."""
    monkeypatch.setenv("PLANACTOR_MODEL", str(tmp_path / "env.gguf"))
    with pytest.raises(InputError, match="--model") as e:
        get_backend("local", model=str(tmp_path / "flag.gguf"))
    assert "flag.gguf" in e.value.message


def test_a_directory_is_not_a_model(tmp_path: Path) -> None:
    """A directory given as the model is bad input naming it."""
    with pytest.raises(InputError, match="is a directory"):
        LocalBackend(model_path=tmp_path)


def test_score_ranks_the_obvious_continuation_first() -> None:
    """score() with the shipped model: " Paris." is likelier than " a banana." after
    "The capital of France is"; scores are mean log-likelihoods (<= 0), deterministic."""
    backend = LocalBackend()
    prompt = "The capital of France is"
    first = backend.score(prompt, [" Paris.", " a banana."])
    assert first[0] > first[1] + 2
    assert all(s <= 0 for s in first)
    assert backend.score(prompt, [" Paris.", " a banana."]) == first
    assert backend.score(prompt, []) == []


def test_score_leaves_completion_unchanged() -> None:
    """Scoring shares the loaded model; a completion after it answers as before."""
    backend = LocalBackend()
    before = backend.complete(MESSAGES, schema=SCHEMA, max_tokens=64).text
    backend.score("The capital of France is", [" Paris."])
    assert backend.complete(MESSAGES, schema=SCHEMA, max_tokens=64).text == before
