"""``python -m ledger``: the ``factledger`` command."""

from ledger.cli import main

if __name__ == "__main__":
    main()
