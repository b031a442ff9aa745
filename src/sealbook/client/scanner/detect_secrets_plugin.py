"""A detect-secrets plugin with the same patterns as ``sealbook scan``.

Use it from a baseline or the command line, naming this file::

    detect-secrets scan --plugin path/to/sealbook/client/scanner/detect_secrets_plugin.py

detect-secrets hands plugins one line at a time; ``analyze_line`` reads the whole file once
(cached) to learn whether it mentions ccxt, which decides whether ``secret`` / ``password``
literals count, exactly as ``sealbook scan`` decides it.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import lru_cache
from pathlib import Path
from typing import Any

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.util.code_snippet import CodeSnippet

from sealbook.client.scanner.files import is_dotenv
from sealbook.client.scanner.patterns import scan_line, wants_ccxt_context

__all__ = ["SealbookDetector"]


@lru_cache(maxsize=256)
def _file_context(filename: str) -> bool:
    try:
        return wants_ccxt_context(Path(filename).read_text("utf-8", errors="replace"))
    except OSError:
        return False


class SealbookDetector(BasePlugin):
    """Sealbook keys (checksum verified), Bitget keys, ccxt literals, exchange env vars."""

    secret_type = "Sealbook or exchange API credential"  # noqa: S105 - a label

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ccxt_context = False
        self._dotenv = False

    def analyze_line(
        self,
        filename: str,
        line: str,
        line_number: int = 0,
        context: CodeSnippet | None = None,
        **kwargs: Any,
    ) -> set[PotentialSecret]:
        self._ccxt_context = _file_context(filename)
        self._dotenv = is_dotenv(Path(filename))
        if context is None:
            return super().analyze_line(filename, line, line_number, **kwargs)
        return super().analyze_line(filename, line, line_number, context, **kwargs)

    def analyze_string(self, string: str, **kwargs: Any) -> Generator[str, None, None]:
        for match in scan_line(string, ccxt_context=self._ccxt_context, dotenv=self._dotenv):
            yield match.value
