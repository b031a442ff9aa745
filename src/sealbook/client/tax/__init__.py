"""Tax: import fills, deposits and withdrawals (``sync``), compute every disposal by
FIFO, LIFO, HIFO or ACB (``report``) and write the forms (``exports``).

``sealbook tax sync`` / ``sealbook tax report`` are the command-line face; everything
here takes ccxt exchange objects and a ``TaxStore`` so it can be driven directly.
"""

from sealbook.client.tax.exports import write_exports
from sealbook.client.tax.lots import METHODS
from sealbook.client.tax.report import Report, ReportSettings, compute_report
from sealbook.client.tax.store import RateRow, TaxStore, TradeRow, TransferRow
from sealbook.client.tax.sync import SyncStats, sync_account

__all__ = [
    "METHODS",
    "RateRow",
    "Report",
    "ReportSettings",
    "SyncStats",
    "TaxStore",
    "TradeRow",
    "TransferRow",
    "compute_report",
    "report_from_store",
    "sync_account",
    "write_exports",
]


def report_from_store(
    store: TaxStore, settings: ReportSettings, accounts: list[str] | None = None
) -> Report:
    """The report over what ``store`` holds (of ``accounts`` only, when given)."""
    wanted = None if accounts is None else set(accounts)
    rates = [r for r in store.rates() if wanted is None or r.account in wanted]
    return compute_report(store.trades(accounts), store.transfers(accounts), rates, settings)
