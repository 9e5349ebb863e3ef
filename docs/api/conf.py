"""Sphinx configuration of the Python API reference: ``make apidocs`` builds it into
``docs/api/_build/html``; ``tests/test_apidocs.py`` builds it with every warning an error, so a
broken cross-reference, a module that no longer imports or a docstring that does not parse fails
``make test``.

Sphinx because the docstrings are written in reST (:class:`...`, :meth:`...`, ````literal````),
which it reads natively.
"""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import ledger  # noqa: E402  (after the path is set, for a build outside the venv's install)

project = "factledger"
# autodoc alone: no docstring here is in the Google or NumPy style, and napoleon would misread a
# ``#:`` comment such as "Each source's live stance: its latest statement" as a type and a text.
extensions = ["sphinx.ext.autodoc"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = "factledger Python API"

autodoc_member_order = "bysource"
autodoc_preserve_defaults = True  # defaults as written (``DEFAULT_POLICY``), not their repr
autodoc_default_options = {"members": True, "show-inheritance": True}

# Broken cross-references are errors (``-n``, with ``-W``): a docstring that names a class, a
# method or a module this reference does not hold fails the build. There is no intersphinx (it
# needs the network at build time), so the standard library's and third-party types that the
# signatures mention (datetime, SQLAlchemy's Engine, ...) cannot resolve: they are let through
# below, by name, and only they are.
nitpicky = True
_BUILTINS = (
    "object|str|int|float|bool|bytes|None|type|dict|list|tuple|set|frozenset|Exception"
    "|BaseException|ValueError|LookupError|KeyError|TypeError"
)
nitpick_ignore_regex = [
    ("py:.*", rf"({_BUILTINS})"),
    # A dotted name outside the two packages: the standard library and the dependencies.
    ("py:.*", r"(?!ledger\.|projections\.)[a-z_][\w]*\..+"),
    # Type variables (``T``) of generic functions: they are not objects to document.
    ("py:class", r"(ledger|projections)(\.\w+)*\.[A-Z]"),
]


def _public_home(target: str) -> str | None:
    """``ledger.X`` for a reference to a name that :mod:`ledger` re-exports, however the
    docstring or the type hint spells it (``BeliefState``, ``projections.beliefs.BeliefState``,
    ``Ledger.believed``): such names are documented once, at their public home."""
    parts = target.lstrip("~.").split(".")
    for i, part in enumerate(parts):
        module = ledger._EXPORTS.get(part)
        if module is not None and ".".join(parts[:i]) in ("", "ledger", module):
            return ".".join(["ledger", *parts[i:]])
    return None


def _resolve(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A reference Sphinx did not find: a re-exported name at its public home; else a name
    written relative to the module that defines the docstring (``:class:`LockWait``` in
    :mod:`ledger.store.retry`, rendered here under ``ledger.RetryPolicy``) as the one documented
    object whose full name ends with it. Anything else stays broken, and fails the build."""
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    home = _public_home(node["reftarget"])
    if home is not None:
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], home, node, contnode
        )
    if node.get("refspecific"):
        return None
    node["refspecific"] = True  # Sphinx's own ``.Name`` search: by suffix, if unambiguous
    try:
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], node["reftarget"], node, contnode
        )
    finally:
        node["refspecific"] = False


def _public_bases(app: Any, name: str, obj: object, options: Any, bases: list[type]) -> None:
    """``Bases:`` lists no private class (the events' ``_Encoded``)."""
    bases[:] = [b for b in bases if not b.__name__.startswith("_")]


def _skip_reexported(  # noqa: PLR0917 (Sphinx passes an event handler's arguments by position)
    app: Any, what: str, name: str, obj: object, skip: bool, opts: Any
) -> Any:
    """A module page leaves out what is documented at ``ledger.X``."""
    if what == "module" and name in ledger._EXPORTS and getattr(ledger, name) is obj:
        return True
    return None


def _shown(value: object) -> str:
    """A default as one would write it: ``Category.COURT``, not ``<Category.COURT: 'court'>``."""
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, frozenset | set):
        return f"{type(value).__name__}({{{', '.join(sorted(map(_shown, value)))}}})"
    if isinstance(value, tuple):
        return f"({', '.join(map(_shown, value))}{',' if len(value) == 1 else ''})"
    return repr(value)


_ATTRS_DEFAULT = re.compile(r"attr_dict\['(\w+)'\]\.default")


def _attrs_defaults(  # noqa: PLR0917 (as above)
    app: Any, what: str, name: str, obj: object, opts: Any, signature: str | None, ret: str | None
) -> tuple[str | None, str | None] | None:
    """The defaults of an attrs class's ``__init__`` as values, where ``autodoc_preserve_defaults``
    would show the generated code's ``attr_dict['x'].default``."""
    if signature is None or not isinstance(obj, type) or not attrs.has(obj):
        return None
    fields = attrs.fields_dict(obj)
    return _ATTRS_DEFAULT.sub(lambda m: _shown(fields[m.group(1)].default), signature), ret


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", _attrs_defaults)
    app.connect("missing-reference", _resolve)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-skip-member", _skip_reexported)
