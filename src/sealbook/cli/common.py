"""What every command shares: --home, --json, reading secrets from stdin, error exits."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from sealbook.config import Settings
from sealbook.errors import SealbookError
from sealbook.exchange.context import Context, open_context
from sealbook.store.audit import AuditChainBroken
from sealbook.store.masterkey import MasterKeyMissing

__all__ = [
    "HomeOpt",
    "JsonOpt",
    "context",
    "emit",
    "fail",
    "fmt_ms",
    "parse_duration_ms",
    "read_secret_line",
    "settings_for",
]

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Directory holding the database and master key [default: $SEALBOOK_HOME or ./var]",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]


def settings_for(home: Path | None) -> Settings:
    return Settings(home=home) if home is not None else Settings()


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def context(home: Path | None, *, create_master_key: bool = False) -> Iterator[Context]:
    try:
        ctx = open_context(settings_for(home), create_master_key=create_master_key)
    except (MasterKeyMissing, AuditChainBroken) as exc:
        fail(str(exc), 2)
    try:
        yield ctx
    except SealbookError as exc:
        fail(f"{exc.code} {exc.msg}")
    finally:
        ctx.engine.dispose()


def read_secret_line(what: str, *, prompt: bool = False) -> str:
    """One line from stdin (or a hidden prompt on a terminal). Never from argv."""
    if prompt and sys.stdin.isatty():
        return str(typer.prompt(what, hide_input=True))
    line = sys.stdin.readline()
    if not line:
        fail(f"expected the {what} on standard input")
    return line.rstrip("\r\n")


def emit(data: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=False))
    else:
        typer.echo(render(data))


_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration_ms(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        fail(f"cannot read duration {text!r}: use e.g. 30d, 12h, 90m")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def fmt_ms(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
