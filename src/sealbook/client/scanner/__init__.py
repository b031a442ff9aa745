"""The leaked-key scanner behind ``sealbook scan`` and its detect-secrets plugin."""

from sealbook.client.scanner.files import Finding, ScanReport, scan_paths, scan_text
from sealbook.client.scanner.patterns import Match, is_sealbook_key, mask, scan_line

__all__ = [
    "Finding",
    "Match",
    "ScanReport",
    "is_sealbook_key",
    "mask",
    "scan_line",
    "scan_paths",
    "scan_text",
]
