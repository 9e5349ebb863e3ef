"""``--policy FILE``: a what-if answer, decided by the policy record in FILE instead of the
policy in force, recording nothing (``believe``, ``timeline``, ``diff``, ``grid``, ``track``).

Its own module, holding no command, so that the modules of commands can import it without
registering a command out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ledger.errors import InvalidRecord
from ledger.events import PolicySet
from ledger.jsonl.policy import read_policy

F = TypeVar("F", bound=Callable[..., Any])


def _load(_ctx: click.Context, _param: click.Parameter, value: str | None) -> PolicySet | None:
    if value is None:
        return None
    try:
        return read_policy(value)
    except (InvalidRecord, OSError, UnicodeDecodeError) as e:
        raise click.BadParameter(str(e)) from e


def policy_option(f: F) -> F:
    """``--policy FILE``: decide by the policy record in FILE instead of the one in force."""
    return click.option(
        "--policy",
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False, path_type=str),
        callback=_load,
        help="What if: decide by the policy record in FILE (a JSON object, or the last "
        "policy record of a JSON Lines file) instead of the policy in force. Records nothing.",
    )(f)
