"""Imports each named module first, in a forked child of an interpreter that has imported none
of the project's modules; prints the failures. Used by tests/test_layout.py."""

import os
import sys
import traceback
from importlib import import_module

# Third-party packages are loaded once, before forking: the question is our own import order.
for name in ("sqlalchemy", "attrs", "click", "rich.console", "alembic", "hypothesis"):
    import_module(name)
assert not [m for m in sys.modules if m.split(".")[0] in ("ledger", "projections")]

failed = 0
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            import_module(module)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed += 1
        print(f"FAILED: import {module}", file=sys.stderr)
sys.exit(1 if failed else 0)
