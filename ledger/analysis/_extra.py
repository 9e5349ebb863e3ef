"""The analysis tools' optional dependencies (``pip install factledger[analysis]``)."""

from __future__ import annotations

from ledger import LedgerError

INSTALL = "pip install factledger[analysis]"


class MissingExtra(LedgerError, ImportError):
    """A package of the ``analysis`` extra (pandas, matplotlib) is not installed."""

    def __init__(self, package: str):
        super().__init__(f"{package} is not installed; the analysis tools need it: {INSTALL}")
        self.package = package
