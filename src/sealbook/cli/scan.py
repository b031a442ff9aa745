"""``sealbook scan PATH...``: find leaked Sealbook keys and other exchange credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sealbook.cli.common import JsonOpt
from sealbook.client.scanner import scan_paths


def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to scan")],
    as_json: JsonOpt = False,
) -> None:
    """Report credentials as file:line with the secret masked; exit 1 when any is found
    (2 when a path does not exist). .git, virtualenvs, caches and binaries are skipped."""
    report = scan_paths(paths)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "findings": [f.as_dict() for f in report.findings],
                    "filesScanned": report.files_scanned,
                    "skipped": [{"path": p, "why": why} for p, why in report.skipped],
                    "missing": report.missing,
                },
                indent=2,
            )
        )
    else:
        for finding in report.findings:
            typer.echo(finding.render())
        for missing in report.missing:
            typer.echo(f"error: no such file or directory: {missing}", err=True)
        typer.echo(
            f"{len(report.findings)} credential(s) found in {report.files_scanned} file(s)",
            err=True,
        )
    if report.missing:
        raise typer.Exit(2)
    if report.findings:
        raise typer.Exit(1)
