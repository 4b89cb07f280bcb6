"""The schema of ``amendwatch.toml`` (msgspec structs) and its errors with ``file:line``.

Imported only when a configuration is parsed (:func:`amendwatch.config.parse_schedule_config`),
so that msgspec never loads for ``amendwatch --version`` or ``--help``. Every table refuses
keys it does not know (with the closest valid one suggested), every value is checked for its
type and range by msgspec, and the checks msgspec cannot express (URLs, CSS selectors,
regexes, header and cookie names, time zones, crontabs) follow in
:mod:`amendwatch.configchecks`. Each error is one line: ``FILE:LINE: what (hint)``.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from msgspec import Meta, Struct

from amendwatch.errors import ConfigError, InputError
from amendwatch.tomllines import Path, key_lines, line_of

DOCS = "docs/configuration.md"
MAX_SECONDS = 366 * 86400  # a year: anything longer is a typo
ENV_SMTP_PASSWORD = "AMENDWATCH_SMTP_PASSWORD"
SENSITIVE = {"headers", "cookies", "urls", "proxy", "password"}  # values never echoed

Seconds = Annotated[float, Meta(gt=0, le=MAX_SECONDS, description="a number of seconds above 0")]
SecondsOrZero = Annotated[
    float, Meta(ge=0, le=MAX_SECONDS, description="a number of seconds, 0 or more")
]
Deadline = Annotated[
    float, Meta(gt=0, le=86400, description="a number of seconds above 0, at most a day")
]
Port = Annotated[int, Meta(gt=0, lt=65536, description="a port number", extra={"hint": "587"})]
AtLeastOne = Annotated[int, Meta(ge=1, description="a whole number, 1 or more")]
FileMode = Annotated[
    int | str, Meta(description="an octal permission string", extra={"hint": '"0640"'})
]
Recipients = Annotated[
    str | list[str],
    Meta(description="an address or a list of addresses", extra={"hint": '["a@example.org"]'}),
]
NonEmpty = Annotated[
    str, Meta(min_length=1, description="a non-empty string", extra={"hint": '["..."]'})
]


class Table(Struct, forbid_unknown_fields=True, kw_only=True):
    """A TOML table: unknown keys are refused (subclasses inherit the setting)."""


class ScheduleTable(Table):
    timezone: str = "Europe/London"
    snapshot: str = "0 2 * * *"
    pages: str = "0 * * * *"
    report: str = "0 7 * * mon"
    report_dir: str | None = None
    feed_dir: str | None = None
    misfire_grace_seconds: Seconds = 3600.0
    lock_wait_seconds: SecondsOrZero = 3600.0
    interval_seconds: Seconds | None = None
    report_interval_seconds: Seconds | None = None


class FetchTable(Table):
    deadline_seconds: Deadline = 60.0
    user_agent: str | None = None
    contact: str | None = None
    proxy: str | None = None
    no_proxy: list[str] | None = None


class OutputTable(Table):
    file_mode: FileMode | None = None


class EmailTable(Table):
    host: str = ""
    sender: str = msgspec.field(default="", name="from")
    to: Recipients = msgspec.field(default_factory=list)
    port: Port | None = None
    tls: str | None = None
    starttls: bool | None = None  # older spelling: starttls = false is tls = "none"
    ssl: bool | None = None  # older spelling: ssl = true is tls = "implicit"
    username: str | None = None
    timeout: Seconds = 30.0
    subject: str = "amendwatch weekly report: {week}"
    ca_file: str | None = None


class NotifyTable(Table):
    urls: list[NonEmpty] = msgspec.field(default_factory=list)
    failure_runs: AtLeastOne = 3
    base_url: str | None = None


class TimestampTable(Table):
    url: str = ""
    ca_file: str | None = None
    timeout: Seconds = 10.0


class ManualTable(Table):
    name: str = ""
    contents_url: str = ""
    amendments_url: str | None = None
    content_selector: str | None = None
    sitemap_url: str | None = None
    ignore: list[str] = msgspec.field(default_factory=list)
    ignore_text: list[str] = msgspec.field(default_factory=list)
    allow_host: list[str] = msgspec.field(default_factory=list)
    display_name: str | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    cookies: dict[str, str] = msgspec.field(default_factory=dict)
    user_agent: str | None = None


class Root(Table):
    schedule: ScheduleTable = msgspec.field(default_factory=ScheduleTable)
    fetch: FetchTable = msgspec.field(default_factory=FetchTable)
    output: OutputTable = msgspec.field(default_factory=OutputTable)
    email: EmailTable | None = None
    notify: NotifyTable | None = None
    timestamp: TimestampTable | None = None
    manual: list[ManualTable] = msgspec.field(default_factory=list)


LEGACY = {("email", "starttls"), ("email", "ssl")}  # read, but shown as tls


# where ----------------------------------------------------------------------------------------
def describe(path: Path) -> str:
    """``[schedule] snapshot``, ``[[manual]] #2 headers.X-Name``, ``[notify] urls item 3``."""
    if not path:
        return "the file"
    head, rest = str(path[0]), list(path[1:])
    if head == "manual":
        text = "[[manual]]"
        if rest and isinstance(rest[0], int):
            text += f" #{int(rest.pop(0)) + 1}"
    else:
        text = f"[{head}]"
    keys = ".".join(str(step) for step in rest if isinstance(step, str))
    items = "".join(f" item {step + 1}" for step in rest if isinstance(step, int))
    return f"{text} {keys}{items}" if keys else text + items


@dataclass(frozen=True)
class Locator:
    """Errors that name the file and the line of a key path."""

    source: str
    lines: Mapping[Path, int]

    def at(self, path: Path) -> str:
        line = line_of(self.lines, path)
        return f"{self.source}:{line}" if line else self.source

    def error(self, path: Path, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.at(path)}: {message}", hint or f"see {DOCS}")

    @contextmanager
    def checking(self, path: Path) -> Iterator[None]:
        """An ``InputError`` of the store's checks, as a ConfigError at ``path``."""
        try:
            yield
        except InputError as exc:
            raise self.error(path, f"{describe(path)}: {exc.args[0]}", exc.hint) from exc


def locator(source: str, text: str | None) -> Locator:
    return Locator(source, key_lines(text) if text else {})


# reading ----------------------------------------------------------------------------------------
def read(raw: Mapping[str, Any], where: Locator) -> Root:
    """The document as typed tables: unknown keys first, then types and ranges."""
    unknown: list[tuple[Path, tuple[str, ...]]] = []
    _unknown_keys(raw, Root, (), unknown)
    if unknown:
        path, valid = min(unknown, key=lambda item: where.lines.get(item[0], 1 << 30))
        raise _unknown_error(path, valid, where)
    try:
        return msgspec.convert(raw, Root, strict=True)
    except msgspec.ValidationError as exc:
        raise _type_error(str(exc), raw, where) from exc


def _bare(kind: Any) -> Any:
    """``kind`` without ``| None`` and ``Annotated``."""
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind):
            rest = [arg for arg in get_args(kind) if arg is not type(None)]
            kind = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        else:
            return kind


def _is_table(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Struct)


def _unknown_keys(
    raw: Mapping[str, Any], table: type[Struct], path: Path, found: list[tuple[Path, Any]]
) -> None:
    fields = {info.encode_name: info for info in msgspec.structs.fields(table)}
    for key, value in raw.items():
        info = fields.get(key)
        if info is None:
            found.append(((*path, key), tuple(fields)))
            continue
        kind = _bare(info.type)
        if _is_table(kind) and isinstance(value, Mapping):
            _unknown_keys(value, kind, (*path, key), found)
        elif get_origin(kind) is list and _is_table(get_args(kind)[0]) and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    _unknown_keys(item, get_args(kind)[0], (*path, key, index), found)


def _unknown_error(path: Path, valid: tuple[str, ...], where: Locator) -> ConfigError:
    key, parent = str(path[-1]), path[:-1]
    if path == ("email", "password"):
        return where.error(
            path,
            "[email] must not hold the password",
            f"remove it and set ${ENV_SMTP_PASSWORD} in the environment",
        )
    place = f"in {describe(parent)}" if parent else "at the top level"
    message = f"unknown key `{key}` {place}"
    close = difflib.get_close_matches(key, valid, n=1)
    if close:
        message += f"; did you mean `{close[0]}`?"
    return where.error(path, message, f"valid keys there: {', '.join(valid)}; see {DOCS}")


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def _steps(text: str) -> Path:
    path: list[str | int] = []
    for found in _STEP.finditer(text):
        if found.group(1) is None and found.group(2) is None:
            break  # a dict's value: its key is not named
        path.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
    return tuple(path)


def _type_error(text: str, raw: Mapping[str, Any], where: Locator) -> ConfigError:
    parts = _AT.match(text)
    path = _steps(parts.group("path") or "") if parts else ()
    missing = _MISSING.search(text)
    if missing:
        return where.error(path, f"{describe(path)} needs {missing.group(1)}")
    kind, default = _kind_at(path)
    key = next((str(step) for step in reversed(path) if isinstance(step, str)), "")
    must, hint = _must_be(kind, key, default)
    value = _value_at(raw, path)
    shown = "" if value is _NOTHING or SENSITIVE & set(path) else f", not {value!r}"
    return where.error(path, f"{describe(path)} must be {must}{shown}", hint)


def _kind_at(path: Path) -> tuple[Any, Any]:
    """The declared type at ``path`` and its default (None when it has none)."""
    kind: Any = Root
    default: Any = None
    for step in path:
        bare = _bare(kind)
        if _is_table(bare):
            info = {f.encode_name: f for f in msgspec.structs.fields(bare)}.get(str(step))
            if info is None:
                return Any, None
            kind, default = info.type, info.default
        elif get_origin(bare) in (list, dict):
            kind, default = get_args(bare)[-1], None
    return kind, default


def _must_be(kind: Any, key: str, default: Any) -> tuple[str, str]:
    """What a value must be, in words, and a hint with an example."""
    meta = next((m for m in _metas(kind) if m.description), None)
    bare = _bare(kind)
    if meta is not None and meta.description:
        number = isinstance(default, int | float) and not isinstance(default, bool)
        example = (meta.extra or {}).get("hint", f"{default:g}" if number else "60")
        return meta.description, f"e.g. {key} = {example}"
    if bare is bool:
        return "true or false (a TOML boolean)", f"write {key} = false or {key} = true, unquoted"
    if _is_table(bare):
        return "a table", f"write it as [{key}] with its keys below"
    if get_origin(bare) is list and _is_table(get_args(bare)[0]):
        return "an array of tables", f"write each one as [[{key}]]"
    if get_origin(bare) is list:
        return "a list of strings", f'e.g. {key} = ["..."]'
    if get_origin(bare) is dict:
        return "a table of strings", f'e.g. {key} = {{ Name = "..." }}'
    if bare is str:
        return "a string", f'quote it: {key} = "..."'
    return "a value of another type", f"see {DOCS}"


def _metas(kind: Any) -> Iterator[Meta]:
    if get_origin(kind) is Annotated:
        yield from (m for m in get_args(kind)[1:] if isinstance(m, Meta))
        yield from _metas(get_args(kind)[0])
    elif get_origin(kind) in (Union, types.UnionType):
        for arg in get_args(kind):
            yield from _metas(arg)


_NOTHING = object()


def _value_at(raw: Any, path: Path) -> Any:
    for step in path:
        in_list = isinstance(step, int) and isinstance(raw, list) and step < len(raw)
        if not (in_list or (isinstance(raw, Mapping) and step in raw)):
            return _NOTHING
        raw = raw[step]
    return raw


def table_keys(table: type[Struct]) -> tuple[str, ...]:
    """The keys a table takes, as written in TOML (for the docs and the example's tests)."""
    return tuple(info.encode_name for info in msgspec.structs.fields(table))


TABLES: dict[str, type[Struct]] = {
    "schedule": ScheduleTable,
    "fetch": FetchTable,
    "output": OutputTable,
    "email": EmailTable,
    "notify": NotifyTable,
    "timestamp": TimestampTable,
    "manual": ManualTable,
}
