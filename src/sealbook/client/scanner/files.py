"""Walking paths for ``sealbook scan``: which files to read, and the findings in them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sealbook.client.scanner.patterns import Match, scan_line, wants_ccxt_context

__all__ = ["SKIPPED_DIRS", "Finding", "ScanReport", "scan_file", "scan_paths", "scan_text"]

# Version-control data, caches and installed packages (ccxt's own examples hold literals).
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", ".tox", ".hypothesis"}
)
MAX_FILE_BYTES = 5 * 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class Finding:
    """A credential at ``path:line``; only the masked form is kept."""

    path: str
    line: int
    kind: str
    masked: str

    def render(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.masked}"

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "kind": self.kind, "masked": self.masked}


@dataclass(slots=True)
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    files_scanned: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    missing: list[str] = field(default_factory=list)


def is_dotenv(path: Path) -> bool:
    name = path.name
    return name.startswith(".env") or name.endswith(".env")


def scan_text(text: str, *, dotenv: bool = False) -> Iterator[tuple[int, Match]]:
    """``(line number, match)`` for every credential in ``text``."""
    context = wants_ccxt_context(text)
    for number, line in enumerate(text.splitlines(), start=1):
        for match in scan_line(line, ccxt_context=context, dotenv=dotenv):
            yield number, match


def _read_text(path: Path, report: ScanReport) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            report.skipped.append((str(path), f"larger than {MAX_FILE_BYTES} bytes"))
            return None
        data = path.read_bytes()
    except OSError as error:
        report.skipped.append((str(path), error.strerror or "unreadable"))
        return None
    if b"\x00" in data[:_SNIFF_BYTES]:
        report.skipped.append((str(path), "binary"))
        return None
    return data.decode("utf-8", errors="replace")


def scan_file(path: Path, report: ScanReport) -> None:
    text = _read_text(path, report)
    if text is None:
        return
    report.files_scanned += 1
    for number, match in scan_text(text, dotenv=is_dotenv(path)):
        report.findings.append(Finding(str(path), number, match.kind, match.masked))


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                yield path


def scan_paths(paths: Iterable[Path]) -> ScanReport:
    """Scan files and directory trees (``.git`` and caches skipped); a path named
    explicitly is scanned even inside a skipped directory (pre-commit passes files)."""
    report = ScanReport()
    for path in paths:
        if path.is_dir():
            for file in _walk(path):
                scan_file(file, report)
        elif path.is_file():
            scan_file(path, report)
        else:
            report.missing.append(str(path))
    return report
