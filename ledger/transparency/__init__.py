"""Proofs anyone can check without the database (issue 15): a Merkle tree over the log, C2SP
signed checkpoints, inclusion and consistency proofs.

* :mod:`ledger.transparency.merkle`: RFC 9162 tree hashing, the stored-node scheme, the
  incremental appender and proof *generation*, reading stored nodes through a :class:`HashReader`.
* :mod:`ledger.transparency.offline`: proof and signed-note *verification*, standard library and
  ``cryptography`` only, so that a third party can copy the one file.
* :mod:`ledger.transparency.note`: Ed25519 signing keys and signing checkpoints.
"""

from __future__ import annotations

from ledger.transparency.merkle import (
    EMPTY_ROOT,
    Appender,
    HashReader,
    MemoryNodes,
    Node,
    NodeId,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    tree_root,
)
from ledger.transparency.note import SigningKey, sign_checkpoint, sign_note
from ledger.transparency.offline import (
    BadSignature,
    Checkpoint,
    InvalidProof,
    MalformedNote,
    VerificationError,
    VerifierKey,
    open_checkpoint,
    open_note,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Appender",
    "BadSignature",
    "Checkpoint",
    "HashReader",
    "InvalidProof",
    "MalformedNote",
    "MemoryNodes",
    "Node",
    "NodeId",
    "SigningKey",
    "VerificationError",
    "VerifierKey",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "root_hash",
    "sign_checkpoint",
    "sign_note",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]
