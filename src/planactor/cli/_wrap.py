"""Prose and shell commands laid out for the console's width, never cut inside a word.

Prose wraps between words, its later lines indented under the first, so that each paragraph
still reads as one. A span in backquotes (`planactor resume RUN`) and words joined by a no-break
space stay on one line: what a reader greps for or copies is whole.

A command shown to be copied breaks between its arguments with a shell line continuation
(` \\` ending the line, the next one indented), so that pasting the lines into a shell runs
the one command; an option stays on the line of its value when they fit together. Arguments
are quoted for the shell (`shlex.quote`).

A word wider than the whole width is never split (a split path or hash is neither copyable
nor greppable): its line runs past the width, and callers shorten what they can (a hash
prefix where the whole hash is shown elsewhere).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

from rich.cells import cell_len

__all__ = ["NBSP", "command_lines", "prose_lines"]

NBSP = "\u00a0"  # joins two words that must stay on one line; printed as a plain space
CONTINUATION = " \\"

_CODE = re.compile(r"`[^`]*`")
_WORD = re.compile(r"( *)([^ ]+)")


def prose_lines(text: str, width: int, *, indent: str = "", hang: str = "  ") -> list[str]:
    """`text` wrapped between words into lines of at most `width` cells (a word wider than
    that gets a line of its own): the first line starts with `indent`, later ones with
    `indent + hang`, as do the lines after a line break in `text`. Spaces inside backquotes
    and no-break spaces never break a line; runs of spaces inside a line are kept."""
    glued = _CODE.sub(lambda m: m.group().replace(" ", NBSP), text)
    lines: list[str] = []
    for n, part in enumerate(glued.split("\n")):
        line, empty = indent if n == 0 else indent + hang, True
        for m in _WORD.finditer(part):
            space, word = m.group(1), m.group(2).replace(NBSP, " ")
            if not empty and cell_len(line + space + word) > width:
                lines.append(line)
                line, empty = indent + hang, True
            line += word if empty else space + word
            empty = False
        lines.append(line)
    return lines


def command_lines(
    argv: Sequence[str],
    width: int,
    *,
    env: Mapping[str, str] | None = None,
    prompt: str = "$ ",
    indent: str = "    ",
) -> list[str]:
    """`env` assignments and `argv`, quoted for the shell, as lines of at most `width` cells
    (unless one argument alone is wider): every line but the last ends with ` \\`, the later
    ones start with `indent`; the first starts with `prompt`. Joined back (each ` \\` and
    line break removed) they are the one command line."""
    words = [f"{k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    words += [shlex.quote(a) for a in argv]
    room = width - len(CONTINUATION)
    # An option and its value travel together when they fit on a continuation line together.
    chunks: list[str] = []
    i = 0
    while i < len(words):
        word, value = words[i], words[i + 1] if i + 1 < len(words) else ""
        pair = f"{word} {value}"
        if word.startswith("-") and value[:1] not in ("", "-") and cell_len(indent + pair) <= room:
            chunks.append(pair)
            i += 2
            continue
        chunks.append(word)
        i += 1
    lines: list[str] = []
    line, empty = prompt, True
    for n, chunk in enumerate(chunks):
        limit = width if n == len(chunks) - 1 else room  # the last chunk needs no ` \`
        if not empty and cell_len(f"{line} {chunk}") > limit:
            lines.append(line + CONTINUATION)
            line, empty = indent, True
        line += chunk if empty else f" {chunk}"
        empty = False
    lines.append(line)
    return lines
