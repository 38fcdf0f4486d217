"""cli/_wrap: prose and shell commands that fit the width without a word cut in two."""

from __future__ import annotations

import shlex

from planactor.cli._wrap import NBSP, command_lines, prose_lines

PATH = "/tmp/planactor-demo-abcdefgh/upgrade-array-01.json"


def _joined(lines: list[str]) -> str:
    """The lines as a shell reads them: each backslash-newline removed."""
    return "\n".join(lines).replace("\\\n", "")


def test_prose_wraps_between_words_within_the_width() -> None:
    """Prose lines fit the width, later ones hang under the first, and no word is split."""
    text = "validated against the catalog, the policy and the lab: every host keeps a path " * 3
    lines = prose_lines(text, 40, indent="  ")
    assert len(lines) > 3
    assert all(len(line) <= 40 for line in lines)
    assert lines[0].startswith("  v")
    assert all(line.startswith("    ") and line[4] != " " for line in lines[1:])
    assert " ".join(line.strip() for line in lines).split() == text.split()


def test_prose_keeps_code_spans_glued_words_and_inner_spacing() -> None:
    """A backquoted span and NBSP-joined words stay on one line; double spaces stay."""
    text = f"then `planactor resume run-0123456789ab` and the playbook{NBSP}storage.fix  [x]"
    assert prose_lines(text, 30) == [
        "then",
        "  `planactor resume run-0123456789ab`",
        "  and the playbook storage.fix",
        "  [x]",
    ]
    assert prose_lines("a = 1  [intent]", 30) == ["a = 1  [intent]"]


def test_prose_line_breaks_start_hanging_lines() -> None:
    """A line break in the text starts a new line, indented as a wrapped one."""
    assert prose_lines("reason: it failed\ntraceback", 40) == ["reason: it failed", "  traceback"]


def test_prose_word_wider_than_the_width_gets_its_own_line_whole() -> None:
    """A word wider than the width is never split: it runs past the edge on its own line."""
    digest = "sha256:" + "ab" * 32
    assert prose_lines(f"plan hash {digest} ok", 40) == ["plan hash", f"  {digest}", "  ok"]


def test_command_that_fits_stays_on_one_line() -> None:
    """A command that fits the width is one line with the prompt and no continuation."""
    assert command_lines(["planactor", "run", PATH], 80) == [f"$ planactor run {PATH}"]


def test_long_command_breaks_with_continuations_that_paste_whole() -> None:
    """A long command breaks between arguments with ` \\`, an option stays with its value,
    every line fits, and joined as a shell does it is the same command."""
    argv = ["planactor", "plan", "Upgrade the firmware on array-01 to 5.2.1"]
    argv += ["--lab", "/tmp/planactor-demo-abcdefgh/lab.json", "-o", PATH]
    lines = command_lines(argv, 64)
    assert lines == [
        "$ planactor plan 'Upgrade the firmware on array-01 to 5.2.1' \\",
        "    --lab /tmp/planactor-demo-abcdefgh/lab.json \\",
        f"    -o {PATH}",
    ]
    assert shlex.split(_joined(lines)[2:]) == argv


def test_command_argument_wider_than_the_width_is_kept_whole() -> None:
    """An argument too wide for any line gets a line of its own, whole; the rest still fits."""
    long_path = "/" + "x" * 90
    argv = ["planactor", "show", long_path, "--wide"]
    lines = command_lines(argv, 40)
    assert f"    {long_path} \\" in lines
    assert all(len(line) <= 40 for line in lines if long_path not in line)
    assert shlex.split(_joined(lines)[2:]) == argv


def test_command_env_assignments_stay_assignments_when_quoted() -> None:
    """Environment assignments come first, their values quoted but not their names."""
    lines = command_lines(["planactor", "runs"], 80, env={"PLANACTOR_HOME": "/tmp/a b"})
    assert lines == ["$ PLANACTOR_HOME='/tmp/a b' planactor runs"]
