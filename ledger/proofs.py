"""Signed checkpoints and proofs of a ledger (issue 15): what :meth:`Ledger.checkpoint_note`,
:meth:`Ledger.prove`, :meth:`Ledger.prove_consistency` and :meth:`Ledger.verify_checkpoint` do.

A checkpoint is a C2SP ``tlog-checkpoint`` (origin, tree size, base64 root) with one extension
line, ``factledger-chain POSITION:HASH``: the hash-chain head at the same size, the line
``factledger checkpoint`` prints. One signature so binds the Merkle root and the chain head:
whoever holds the note can check the ledger against either. The origin is the signing key's name.

Proofs are read from the stored tree (:mod:`ledger.store.merkle`) and checked with
:mod:`ledger.transparency.offline`, which needs no database. Notes that do not parse, and
checkpoints this ledger does not extend, are :class:`~ledger.errors.LedgerError`\\ s here; a proof
that fails offline raises the offline module's ``VerificationError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import InvalidRecord, LedgerError, NotFound
from ledger.records import VerifyReport
from ledger.store.backends import reading, writing
from ledger.store.eventstore import EventStore
from ledger.store.merkle import prove_consistency, root_at, tree_size
from ledger.store.tree import (
    catch_up,
    chain_hash_at,
    current_size,
    event_shown,
    head_position,
    position_of,
    root_and_path,
)
from ledger.transparency.merkle import MissingNode
from ledger.transparency.note import SigningKey, sign_checkpoint
from ledger.transparency.offline import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    VerificationError,
    VerifierKey,
    open_checkpoint,
    parse_note,
)

#: The extension line that names the hash-chain head at the checkpoint's size.
CHAIN_LINE = "factledger-chain "


class CheckpointNotExtended(LedgerError):
    """The ledger does not extend the checkpoint given: it is shorter, or its tree of that
    size has another root (the log was rewritten, or the checkpoint is of another log)."""


def checkpoint(store: EventStore, origin: str) -> Checkpoint:
    """The ledger's checkpoint now: its size, Merkle root and chain head, read in one
    transaction. A tree behind the log (rows copied in from elsewhere, say) is caught up first,
    under the writer lock, from the verified rows (``ledger.store.tree.catch_up``)."""
    with reading(store.engine) as conn:
        behind = tree_size(conn) < head_position(conn)
    if behind:
        with writing(store.engine) as conn:
            catch_up(conn, tree_size(conn), head_position(conn))
    with reading(store.engine) as conn:
        size = current_size(conn)
        root = root_at(conn, size)
        chain = chain_hash_at(conn, size)
    return Checkpoint(origin, size, root, (f"{CHAIN_LINE}{size}:{chain}",))


def checkpoint_note(store: EventStore, key: SigningKey) -> str:
    """The ledger's checkpoint now, signed by ``key`` (whose name is the origin)."""
    return sign_checkpoint(checkpoint(store, key.name), key)


def read_checkpoint(note: str, keys: Sequence[VerifierKey] = ()) -> Checkpoint:
    """The checkpoint in a signed note: with ``keys``, only if one of them signed it; without,
    read as it stands (its signatures unchecked)."""
    try:
        if keys:
            return open_checkpoint(note, keys)
        return Checkpoint.parse(parse_note(note).text)
    except VerificationError as e:
        raise InvalidRecord(f"the checkpoint note: {e}", field="checkpoint") from None


def chain_checkpoint(cp: Checkpoint) -> tuple[int, str] | None:
    """The ``POSITION:HASH`` chain head a checkpoint names, if it has the extension line."""
    for line in cp.extensions:
        if line.startswith(CHAIN_LINE):
            position, _, digest = line.removeprefix(CHAIN_LINE).partition(":")
            if position.isdigit() and int(position) == cp.size and len(digest) == 64:
                return cp.size, digest
            raise InvalidRecord(f"a malformed chain line: {line!r}", field="checkpoint")
    return None


def _extended(store: EventStore, cp: Checkpoint) -> None:
    with reading(store.engine) as conn:
        stored = tree_size(conn)
        if cp.size > stored:
            raise _shorter(cp, stored, head_position(conn))
        if root_at(conn, cp.size) != cp.root:
            raise _rewritten(cp)


def _shorter(cp: Checkpoint, stored: int, log: int | None = None) -> CheckpointNotExtended:
    if log is not None and log >= cp.size:
        return CheckpointNotExtended(
            f"the ledger's Merkle tree has {stored} leaves, its log {log} events: the tree is "
            "behind the log (rows written by other means); a signed checkpoint or the next "
            "append builds it from the verified log"
        )
    return CheckpointNotExtended(
        f"the checkpoint is of {cp.size} events; the ledger's tree has {stored}: "
        "its tail is missing, or the checkpoint is of another log"
    )


def _rewritten(cp: Checkpoint) -> CheckpointNotExtended:
    return CheckpointNotExtended(
        f"the ledger's tree of {cp.size} events has another root than the checkpoint's: "
        "the log was rewritten, or the checkpoint is of another log"
    )


def prove(
    store: EventStore, ident: str, note: str, keys: Sequence[VerifierKey] = ()
) -> InclusionProof:
    """The inclusion proof of the event named by ``ident`` (event id or record id) in the
    tree of the checkpoint ``note``, with the event as stored and its salt. One connection and
    three statements: the id, the event with its salt, and every node the root and the path
    need."""
    cp = read_checkpoint(note, keys)
    with reading(store.engine) as conn:
        position = position_of(conn, ident)
        if position > cp.size:
            raise NotFound(
                f"{ident!r} is at position {position}, after the checkpoint's {cp.size} events: "
                "prove it against a newer checkpoint"
            )
        shown, leaf = event_shown(conn, position)
        try:
            root, path = root_and_path(conn, position - 1, cp.size)
        except MissingNode:
            raise _shorter(cp, tree_size(conn), head_position(conn)) from None
    if root != cp.root:
        raise _rewritten(cp)
    return InclusionProof(position - 1, cp.size, leaf, tuple(path), note, shown)


def consistency(
    store: EventStore, old: str, new: str, keys: Sequence[VerifierKey] = ()
) -> ConsistencyProof:
    """The proof that checkpoint ``new`` extends checkpoint ``old``, both of this ledger."""
    before, after = read_checkpoint(old, keys), read_checkpoint(new, keys)
    if before.size > after.size:
        raise InvalidRecord(
            f"the old checkpoint ({before.size} events) is larger than the new one "
            f"({after.size}): give them oldest first",
            field="checkpoint",
        )
    _extended(store, after)
    _extended(store, before)
    with reading(store.engine) as conn:
        path = prove_consistency(conn, before.size, after.size)
    return ConsistencyProof(old, new, before.size, after.size, tuple(path))


def extends(store: EventStore, cp: Checkpoint, report: VerifyReport) -> VerifyReport:
    """``report`` (a verified log), failed unless the ledger extends checkpoint ``cp``."""
    if not report.ok:
        return report
    try:
        _extended(store, cp)
    except CheckpointNotExtended as e:
        # A missing tail is found where the log ends; a rewritten tree cannot be placed.
        where = report.head.position + 1 if cp.size > report.head.position else None
        return VerifyReport(False, report.checked, report.head, where, str(e))
    return report
