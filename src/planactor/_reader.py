"""The one bounded, strict reader for every document planactor loads.

Plans, lab files, policies, inventories, key files, routines and eval sets all come through
here, so each is refused the same way when it is wrong:

- only a regular file: a FIFO, a device (`/dev/zero`), a socket or a directory is named and
  refused. The file is opened with O_NONBLOCK and checked with `fstat` on the open
  descriptor, so a FIFO never blocks and a file swapped after the check is still the one
  checked;
- at most `max_bytes`, read at most one byte past the limit, so a huge file (or a link to one)
  costs no more memory than the limit;
- UTF-8 only, without a byte-order mark; a bad sequence is reported with its byte offset;
- JSON through the strict plan parser (no NaN, no duplicate keys) and YAML through a safe
  loader without tags, with anchors and aliases bounded (the "billion laughs" shape) and
  duplicate keys refused; both nested at most `MAX_DEPTH` levels.

Every refusal is an InputError (exit 2) saying what, where and how to fix it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planactor._errors import InputError
from planactor.plan import JsonSyntaxError, format_location, parse_json
from planactor.plan._json import MAX_DEPTH

__all__ = [
    "LIMITS",
    "MAX_DEPTH",
    "MAX_YAML_NODES",
    "DocumentLimits",
    "StrictLoader",
    "decode_utf8",
    "load_json",
    "load_yaml",
    "read_bounded",
    "read_document",
    "read_json",
    "read_text",
    "read_yaml",
]

# A document may expand its aliases to at most this many nodes: a routine or a policy is a
# few hundred; the billion-laughs file asks for 10^9.
MAX_YAML_NODES = 100_000
MAX_YAML_ALIASES = 64


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """The size limit of each kind of file, in bytes."""

    plan: int = 1 << 20
    lab: int = 32 << 20
    policy: int = 1 << 20
    inventory: int = 8 << 20
    key: int = 64 << 10
    routine: int = 1 << 20
    eval_set: int = 4 << 20


LIMITS = DocumentLimits()

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refuse(source: str, label: str | None, reason: str, hint: str | None = None) -> InputError:
    return InputError(f"{source}: {label}: {reason}" if label else f"{source}: {reason}", hint=hint)


def read_bounded(
    path: str | os.PathLike[str],
    *,
    what: str,
    limit: int,
    label: str | None = None,
    missing: str | None = None,
) -> bytes:
    """At most `limit + 1` bytes of the regular file at `path`: the caller says "too large".

    InputError if it is missing, unreadable, a symlink loop, or not a regular file; the
    message is `PATH: REASON`, or `PATH: LABEL: REASON` with a `label` ("cannot read the
    policy"); `missing` replaces the whole message for a file that does not exist.
    """
    source = str(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        if missing is not None:
            raise InputError(f"{source}: {missing}", hint="check the path") from None
        raise _refuse(source, label, "no such file", "check the path") from None
    except PermissionError:
        raise _refuse(source, label, "permission denied") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _refuse(
                source, label, "symbolic link loop", "point the link at the file itself"
            ) from None
        raise _refuse(source, label, f"cannot read: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(
                source,
                label,
                f"is {_not_regular(st.st_mode)}, not a regular file",
                f"give the path of the {what} file itself",
            )
        chunks: list[bytes] = []
        left = max(0, limit) + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise _refuse(source, label, f"cannot read: {e.strerror}") from None
    finally:
        os.close(fd)


def read_document(
    path: str | os.PathLike[str],
    *,
    what: str,
    max_bytes: int,
    label: str | None = None,
    missing: str | None = None,
) -> bytes:
    """The bytes of the regular file at `path`; InputError if larger than `max_bytes`."""
    data = read_bounded(path, what=what, limit=max_bytes, label=label, missing=missing)
    if len(data) > max_bytes:
        raise _refuse(
            str(path),
            label,
            f"the {what} is larger than {max_bytes:,} bytes",
            f"a {what} this large is not one planactor wrote; check the file",
        )
    return data


def decode_utf8(data: bytes, *, source: str, what: str, label: str | None = None) -> str:
    """UTF-8 text without a byte-order mark; InputError with the offset of a bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise _refuse(
            source,
            label,
            f"the {what} starts with a byte-order mark (BOM)",
            "save it as UTF-8 without a BOM",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _refuse(
            source,
            label,
            f"the {what} is not UTF-8 text (bad byte 0x{data[e.start]:02x} "
            f"at byte offset {e.start})",
            "save it as UTF-8",
        ) from None


def read_text(
    path: str | os.PathLike[str],
    *,
    what: str,
    max_bytes: int,
    label: str | None = None,
    missing: str | None = None,
) -> str:
    """A regular file's UTF-8 text, bounded (see the module docstring)."""
    data = read_document(path, what=what, max_bytes=max_bytes, label=label, missing=missing)
    return decode_utf8(data, source=str(path), what=what, label=label)


def load_json(data: bytes | str, *, source: str, what: str) -> Any:
    """Strict JSON (the plan parser): InputError with a line and column, or a JSON path."""
    if isinstance(data, bytes):
        data = decode_utf8(data, source=source, what=what)
    try:
        return parse_json(data)
    except JsonSyntaxError as e:
        raise InputError(
            f"{source}: the {what} is not valid JSON: {e}", hint="check the file's syntax"
        ) from None


def read_json(path: str | os.PathLike[str], *, what: str, max_bytes: int) -> Any:
    """A regular file's strict JSON, bounded in size and depth."""
    return load_json(
        read_document(path, what=what, max_bytes=max_bytes), source=str(path), what=what
    )


# -- YAML ------------------------------------------------------------------------------------


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses explicit tags, deep nesting and too many aliases while it
    composes, before any value is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self._depth >= MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _Refused(f"more than {MAX_YAML_ALIASES} aliases", event.start_mark)
        elif getattr(event, "tag", None) is not None:
            raise _Refused(f"explicit tag {getattr(event, 'tag', '')!r}", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:

    class _LibyamlStrictLoader(yaml._yaml.CParser, StrictLoader):
        """StrictLoader whose events come from libyaml's C parser: the same Python
        composer (depth, alias and tag checks), resolver and constructor, ten times faster
        on the routines shipped in packages."""

        # The composer's entry points from StrictLoader, not the C composer of CParser,
        # which would skip `compose_node` and its checks.
        check_node = StrictLoader.check_node
        get_node = StrictLoader.get_node
        get_single_node = StrictLoader.get_single_node

        def __init__(self, stream: str) -> None:
            yaml._yaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._depth = 0
            self._aliases = 0

    _FAST_LOADER: type[StrictLoader] | None = _LibyamlStrictLoader
else:  # PyYAML built without libyaml: the pure-Python parser reads everything
    _FAST_LOADER = None

_NOT_LOADED = object()


def _load_fast(text: str) -> Any:
    """The document through libyaml's parser, or _NOT_LOADED on any problem at all, which
    the pure-Python loader then reports with its usual message."""
    if _FAST_LOADER is None:
        return _NOT_LOADED
    ld: StrictLoader | None = None
    try:
        ld = _FAST_LOADER(text)
        node = ld.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        if _duplicate_key(node) is not None:
            return _NOT_LOADED
        return ld.construct_document(node)
    except Exception:  # reported again, exactly, by the Python loader
        return _NOT_LOADED
    finally:
        if ld is not None:
            ld.dispose()


def _expanded_size(node: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (shared nodes counted
    each time they are used); refuses a node that contains itself."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in active:
            raise _Refused("an alias refers to a node that contains it", n.start_mark)
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for item in n.value:
                total += size(item)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
        if total > MAX_YAML_NODES:
            raise _Refused(
                f"aliases expand it to more than {MAX_YAML_NODES:,} values", n.start_mark
            )
        active.discard(key)
        memo[key] = total
        return total

    return size(node)


def _duplicate_key(node: yaml.Node, path: tuple[str | int, ...] = ()) -> str | None:
    """The first key given twice in one mapping, with its path and both lines, or None.

    YAML lets the last of two equal keys win silently; a reviewer reading the first one
    would then approve a document that is not the one in force.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                if key.value in seen:
                    where = format_location((*path, key.value))
                    return (
                        f"line {line}: duplicate key {where} (first given on line "
                        f"{seen[key.value]}); the last one would silently win"
                    )
                seen[key.value] = line
            below = (*path, key.value) if isinstance(key, yaml.ScalarNode) else path
            found = _duplicate_key(value, below)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_key(item, (*path, i))
            if found:
                return found
    return None


def load_yaml(
    text: str,
    *,
    source: str,
    what: str,
    loader: type[StrictLoader] = StrictLoader,
    error: type[InputError] = InputError,
    packaged: bool = False,
) -> Any:
    """One YAML document, strictly (see the module docstring); `error` is raised on a
    problem, with the line and column.

    `packaged`: the text ships inside an installed package (a pack's routines), read at
    every catalog load; it is parsed by libyaml when PyYAML has it, with the same checks,
    and any problem is reported by the pure-Python loader, as for every other document.
    """
    if packaged and loader is StrictLoader:
        value = _load_fast(text)
        if value is not _NOT_LOADED:
            return value
    ld: StrictLoader | None = None
    try:
        ld = loader(text)  # its reader refuses control characters (NUL) at once
        node = ld.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        duplicate = _duplicate_key(node)
        if duplicate is not None:
            raise error(
                f"{source}: {duplicate}",
                hint="keep one of them: each key may appear once in a mapping",
            )
        return ld.construct_document(node)
    except _Refused as e:
        where = f" (line {e.mark.line + 1}, column {e.mark.column + 1})" if e.mark else ""
        raise error(
            f"{source}{where}: the {what} is refused: {e.message}",
            hint="write plain YAML: no tags, few anchors, moderate nesting",
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise error(
            f"{source}{where}: not valid YAML: {problem}", hint="check the indentation and quotes"
        ) from None
    except RecursionError:  # a construct path deeper than the composer's bound
        raise error(f"{source}: the {what} is nested too deeply") from None
    finally:
        if ld is not None:
            ld.dispose()


def read_yaml(path: str | os.PathLike[str] | Path, *, what: str, max_bytes: int) -> Any:
    """A regular file's strict YAML, bounded in size, depth and alias expansion."""
    text = read_text(path, what=what, max_bytes=max_bytes)
    return load_yaml(text, source=str(path), what=what)
