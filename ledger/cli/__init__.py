"""The ``factledger`` command: a thin layer over :class:`ledger.Ledger`.

``app`` holds the click group and what every command shares; ``commands`` the commands that
write, read and check; ``demo`` the guided story. Importing this package registers them all.
"""

import ledger.cli.proofs  # noqa: F401 - keygen, prove, verify-proof; checkpoint --sign (issue 15)
from ledger.cli import analysis, commands, demo, policy, redaction, track
from ledger.cli.app import cli, main

__all__ = ["analysis", "cli", "commands", "demo", "main", "policy", "redaction", "track"]
