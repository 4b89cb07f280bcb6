"""Where each key of a TOML document is written: ``tomllib`` keeps no positions, so
configuration errors find their ``file:line`` here.

:func:`key_lines` scans a document that ``tomllib`` has already accepted and maps every key
path to the line (1-based) that first mentions it. A path is a tuple of keys and array
indexes, as the parsed data nests them: ``("schedule", "snapshot")``, ``("manual", 1,
"ignore", 0)`` (the second ``[[manual]]``, its first ``ignore`` entry), ``("manual", 0,
"headers", "X-Name")``. Table headers (``[x]``, ``[x.y]``), arrays of tables (``[[x]]``, also
nested), dotted keys (``a.b = 1``), quoted keys, inline tables and arrays spanning lines are
followed; strings (all four kinds) and comments are skipped, so a ``#`` or a ``[`` inside them
misleads nothing.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Mapping, Sequence

__all__ = ["Path", "key_lines", "line_of"]

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(r"'[^'\n]*'")
_SCALAR_END = ",]}#\n"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, char in enumerate(text) if char == "\n"]
        self.lines: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}  # each array of tables: the index of its last table

    # reading ------------------------------------------------------------------------------
    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def line(self) -> int:
        return bisect.bisect_left(self.newlines, self.pos) + 1

    def record(self, path: Path) -> None:
        self.lines.setdefault(path, self.line())

    def skip_blank(self, *, newlines: bool) -> None:
        """Spaces and tabs, comments, and (with ``newlines``) line ends."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def key(self) -> list[str]:
        """A dotted key: bare, "basic" or 'literal' parts separated by dots."""
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            for pattern in (_BARE, _BASIC, _LITERAL):
                found = pattern.match(self.text, self.pos)
                if found:
                    parts.append(_unquote(found.group()))
                    self.pos = found.end()
                    break
            else:
                return parts
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.pos += 1

    # values --------------------------------------------------------------------------------
    def value(self, path: Path) -> None:
        self.skip_blank(newlines=False)
        for quotes in ('"""', "'''"):
            if self.peek(3) == quotes:
                self.multiline_string(quotes)
                return
        start = self.peek()
        if start in "\"'":
            found = (_BASIC if start == '"' else _LITERAL).match(self.text, self.pos)
            self.pos = found.end() if found else self.pos + 1
        elif start == "[":
            self.array(path)
        elif start == "{":
            self.inline_table(path)
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.pos += 1

    def multiline_string(self, quotes: str) -> None:
        self.pos += 3
        while self.pos < len(self.text):
            if quotes == '"""' and self.peek() == "\\":
                self.pos += 2
            elif self.peek(3) == quotes:
                self.pos += 3
                while self.peek() == quotes[0] and self.peek(3) != quotes:  # """a"""" is valid
                    self.pos += 1
                return
            else:
                self.pos += 1

    def array(self, path: Path) -> None:
        self.pos += 1
        index = 0
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.peek() in ("]", ""):
                self.pos += 1
                return
            if self.peek() == ",":
                self.pos += 1
                continue
            self.record((*path, index))
            self.value((*path, index))
            index += 1

    def inline_table(self, path: Path) -> None:
        self.pos += 1
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.peek() in ("}", ""):
                self.pos += 1
                return
            if self.peek() == ",":
                self.pos += 1
                continue
            if not self.assignment(path):
                self.pos += 1  # never stuck on something unexpected

    def assignment(self, table: Path) -> bool:
        """``key = value`` inside ``table``; False when no key starts here."""
        start = self.pos
        parts = self.key()
        if not parts or self.peek() != "=":
            self.pos = max(self.pos, start + 1)
            return False
        for depth in range(1, len(parts) + 1):
            self.record((*table, *parts[:depth]))
        self.pos += 1
        self.value((*table, *parts))
        return True

    # the document --------------------------------------------------------------------------
    def header(self) -> Path:
        """``[a.b]`` or ``[[a.b]]``: the path of the table it opens."""
        double = self.peek(2) == "[["
        self.pos += 2 if double else 1
        parts = self.key()
        self.pos += 2 if double else 1
        resolved = self.resolve(parts[:-1] if double else parts)
        if double and parts:
            array = (*resolved, parts[-1])
            self.record(array)
            self.arrays[array] = self.arrays.get(array, -1) + 1
            resolved = (*array, self.arrays[array])
        self.record(resolved)
        return resolved

    def resolve(self, parts: Sequence[str]) -> Path:
        """A header's keys, with the current table of each array of tables they pass."""
        resolved: Path = ()
        for part in parts:
            resolved = (*resolved, part)
            if resolved in self.arrays:
                resolved = (*resolved, self.arrays[resolved])
        return resolved

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            if self.peek() == "[":
                table = self.header()
            else:
                self.assignment(table)


def _unquote(raw: str) -> str:
    if raw.startswith('"'):
        return str(tomllib.loads(f"k = {raw}")["k"])  # every TOML escape, as TOML reads it
    return raw[1:-1] if raw.startswith("'") else raw


def key_lines(text: str) -> dict[Path, int]:
    """Every key path of ``text`` (valid TOML) with the line that first mentions it."""
    return _Scanner(text).document()


def line_of(lines: Mapping[Path, int], path: Path) -> int | None:
    """The line of ``path``, else of its closest enclosing key that has one."""
    for depth in range(len(path), 0, -1):
        found = lines.get(path[:depth])
        if found is not None:
            return found
    return None
