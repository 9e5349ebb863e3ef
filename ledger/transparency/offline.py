"""Check factledger's proofs with no database and no network.

This one file is meant to be copied: it imports only the Python standard library and the
``cryptography`` package, nothing from factledger, so an editor, a court or a reader who is sent
a proof can verify it with code they hold themselves. It implements public standards:

* RFC 9162 section 2.1: Merkle tree hashing, inclusion proof verification (2.1.3.2) and
  consistency proof verification (2.1.4.2);
* C2SP ``signed-note`` with Ed25519 signatures (signature type 0x01), and verifier keys in the
  ``name+hexkeyid+base64(0x01 || public key)`` form used by Go's ``golang.org/x/mod/sumdb/note``;
* C2SP ``tlog-checkpoint``: a note whose text is the origin, the tree size and the base64 root;
* factledger's event leaf (:func:`event_leaf`): what one leaf of a factledger log holds, so that
  a proof shows which event it proves, not only which bytes.

Every failure raises a :class:`VerificationError` (a ``ValueError``) saying what did not hold.
Typical use::

    key = VerifierKey.parse(open("ledger.vkey").read().strip())
    checkpoint = verify_inclusion_in(note_text, [key], leaf_bytes, index, path)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "EMPTY_ROOT",
    "EVENT_FIELDS",
    "LEAF_FIELDS",
    "LEAF_VERSION",
    "BadSignature",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "InvalidProof",
    "MalformedCheckpoint",
    "MalformedKey",
    "MalformedNote",
    "NoKnownSignature",
    "Note",
    "NoteSignature",
    "VerificationError",
    "VerifierKey",
    "event_leaf",
    "key_id",
    "leaf_hash",
    "leaf_of_event",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "payload_digest",
    "root_from_inclusion",
    "verify_consistency",
    "verify_consistency_between",
    "verify_inclusion",
    "verify_inclusion_in",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: C2SP signed-note signature type of Ed25519.
ED25519 = 0x01
#: Signatures accepted on one note (the spec asks for at least 16; Go's reader allows 100).
MAX_SIGNATURES = 100
#: Characters accepted in one note: a checkpoint is about 200; this bounds hostile input.
MAX_NOTE_LENGTH = 1 << 20
_SIG_PREFIX = "\u2014 "  # em dash, space
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}", re.ASCII)


class VerificationError(ValueError):
    """Something shown as proven is not: the root of every error this module raises."""


class InvalidProof(VerificationError):
    """An inclusion or consistency proof does not lead to the root it is checked against."""


class MalformedNote(VerificationError):
    """Text that is not a C2SP signed note."""


class MalformedCheckpoint(VerificationError):
    """A note text that is not a C2SP tlog checkpoint."""


class MalformedKey(VerificationError):
    """A verifier key that is not ``name+hexkeyid+base64(0x01 || Ed25519 public key)``."""


class BadSignature(VerificationError):
    """A signature by a trusted key does not verify: the note was altered or forged."""


class NoKnownSignature(BadSignature):
    """No signature on the note is by any of the trusted keys."""


# -- RFC 9162 section 2.1 ----------------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hashes(path: Sequence[bytes], *named: tuple[str, bytes]) -> None:
    for name, value in named:
        if len(value) != HASH_SIZE:
            raise InvalidProof(f"{name} has {len(value)} bytes, not {HASH_SIZE}")
    for i, value in enumerate(path):
        if len(value) != HASH_SIZE:
            raise InvalidProof(f"proof hash {i} has {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(hashed: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root that leaf hash ``hashed`` at ``index`` and ``path`` lead to in a tree of ``size``
    leaves, by RFC 9162 section 2.1.3.2 steps 1 to 4."""
    _check_hashes(path, ("the leaf hash", hashed))
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, hashed
    for p in path:
        if sn == 0:
            raise InvalidProof(f"the proof is longer than a tree of size {size} is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:  # a right edge: skip levels where this node has no sibling
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof(f"the proof is shorter than leaf {index} is deep in a tree of {size}")
    return r


def verify_inclusion(
    hashed: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2: raise :class:`InvalidProof` unless the leaf hash ``hashed`` is
    leaf ``index`` of the tree of ``size`` leaves whose root is ``root``.

    ``size`` is bound only through ``root``: take both from the same checkpoint
    (:func:`verify_inclusion_in` does)."""
    _check_hashes((), ("the root", root))
    if root_from_inclusion(hashed, index, size, path) != root:
        raise InvalidProof(
            f"the inclusion proof of leaf {index} does not lead to the root of the tree of {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2: raise :class:`InvalidProof` unless the tree of ``new_size``
    leaves with root ``new_root`` extends the tree of ``old_size`` with root ``old_root``.

    Equal sizes need an empty proof and equal roots; the empty tree (whose root is
    ``SHA-256("")``) is extended by every tree, with an empty proof."""
    _check_hashes(path, ("the old root", old_root), ("the new root", new_root))
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"a tree of size {new_size} cannot extend one of size {old_size}")
    if old_size in (0, new_size):
        _check_trivial(old_size, new_size, old_root, new_root, path)
        return
    fr, sr, sn = _consistency_roots(old_size, new_size, old_root, path)
    if sn != 0:
        raise InvalidProof(f"the consistency proof is too short for sizes {old_size}, {new_size}")
    if fr != old_root:
        raise InvalidProof(f"the consistency proof does not lead to the old root (size {old_size})")
    if sr != new_root:
        raise InvalidProof(f"the consistency proof does not lead to the new root (size {new_size})")


def _check_trivial(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    if path:
        raise InvalidProof(f"a proof from size {old_size} to {new_size} is empty")
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise InvalidProof("the root of the empty tree is SHA-256 of nothing")
    if old_size == new_size and old_root != new_root:
        raise InvalidProof(f"two different roots for the same tree size {old_size}")


def _consistency_roots(
    old_size: int, new_size: int, old_root: bytes, path: Sequence[bytes]
) -> tuple[bytes, bytes, int]:
    """RFC 9162 section 2.1.4.2 steps 1 to 6: the two roots the proof leads to, and ``sn``."""
    if not path:
        raise InvalidProof(f"the proof from size {old_size} to {new_size} has no hashes")
    if old_size & (old_size - 1) == 0:  # a complete old tree is its own first proof node
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof(
                f"the consistency proof is too long for sizes {old_size}, {new_size}"
            )
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn


# -- factledger's event leaf -------------------------------------------------------------------
#
# Leaf i of a factledger log (from 0) is the event at position i + 1, as the UTF-8 bytes of one
# canonical JSON object (keys sorted, no white space, no \u escapes of non-ASCII text):
#
#   {"event_id":…,"payload_digest":…,"position":…,"recorded_at":…,"stated_at":…,
#    "stream_id":…,"stream_version":…,"type":…,"v":1}
#
# Times are integer microseconds since the Unix epoch, UTC (stated_at may be null). The payload
# itself is not in the leaf: payload_digest is the lowercase hex SHA-256 of a random per-event
# salt (16 bytes) followed by the payload's canonical JSON text in UTF-8. The salt is kept beside
# the event and handed out with a proof; removing the payload and its salt (a redaction) leaves
# the leaf, and every proof through it, valid, while the digest alone confirms no guess of the
# removed text.

#: The leaf format's version, the ``v`` of every leaf.
LEAF_VERSION = 1
#: The keys of a leaf, in their (sorted) order.
LEAF_FIELDS = (
    "event_id",
    "payload_digest",
    "position",
    "recorded_at",
    "stated_at",
    "stream_id",
    "stream_version",
    "type",
    "v",
)
SALT_SIZE = 16
_quote = json.encoder.encode_basestring  # a str as the canonical encoder writes it
_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def payload_digest(salt: bytes, payload: str) -> str:
    """``SHA-256(salt || payload)`` in lowercase hex, ``payload`` the canonical JSON text."""
    return hashlib.sha256(salt + payload.encode("utf-8")).hexdigest()


def event_leaf(
    *,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    type: str,
    stated_at: int | None,
    recorded_at: int,
    payload_digest: str,
) -> bytes:
    """The leaf bytes of one stored event (see the comment above)."""
    if not (
        position.__class__ is stream_version.__class__ is recorded_at.__class__ is int
        and event_id.__class__ is payload_digest.__class__ is str
        and stream_id.__class__ is type.__class__ is str
        and (stated_at is None or stated_at.__class__ is int)
    ):
        # Anything else (a bool, a subclass) as the one canonical encoder writes it.
        return _leaf_object(
            event_id=event_id,
            payload_digest=payload_digest,
            position=position,
            recorded_at=recorded_at,
            stated_at=stated_at,
            stream_id=stream_id,
            type=type,
            stream_version=stream_version,
        )
    # The same bytes as _leaf_object, by concatenation: a leaf is made for every event appended.
    return (
        f'{{"event_id":{_quote(event_id)},"payload_digest":{_quote(payload_digest)},'
        f'"position":{position},"recorded_at":{recorded_at},'
        f'"stated_at":{"null" if stated_at is None else stated_at},'
        f'"stream_id":{_quote(stream_id)},"stream_version":{stream_version},'
        f'"type":{_quote(type)},"v":{LEAF_VERSION}}}'
    ).encode()


def _leaf_object(
    *,
    event_id: str,
    payload_digest: str,
    position: int,
    recorded_at: int,
    stated_at: int | None,
    stream_id: str,
    type: str,
    stream_version: int,
) -> bytes:
    """The leaf as canonical JSON of an object: the definition :func:`event_leaf` follows."""
    return _canonical(
        {
            "event_id": event_id,
            "payload_digest": payload_digest,
            "position": position,
            "recorded_at": recorded_at,
            "stated_at": stated_at,
            "stream_id": stream_id,
            "stream_version": stream_version,
            "type": type,
            "v": LEAF_VERSION,
        }
    ).encode("utf-8")


#: The fields of an event as a proof shows it: the leaf's, with the payload and salt in place
#: of the digest (``payload`` the canonical JSON text, ``salt`` base64).
EVENT_FIELDS = (
    "position",
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "stated_at",
    "recorded_at",
    "payload",
    "salt",
)


def leaf_of_event(event: Mapping[str, object]) -> bytes:
    """The leaf bytes an event shown in a proof must have; :class:`InvalidProof` if the event
    is not a well-formed one (a field missing or of the wrong type).

    An event whose payload was removed (redacted) shows ``payload_digest`` (hex) instead of
    ``payload`` and ``salt``: the leaf is then checked against that digest, which says nothing
    about the removed text."""
    if "payload_digest" in event and "payload" not in event and "salt" not in event:
        digest = _text_field(event, "payload_digest")
        if len(digest) != 64 or not set(digest) <= set("0123456789abcdef"):
            raise InvalidProof("the event's payload_digest is not 64 lowercase hex digits")
    else:
        salt = _b64(_text_field(event, "salt"), "the event's salt", InvalidProof)
        digest = payload_digest(salt, _text_field(event, "payload"))
    stated = event.get("stated_at", _MISSING)
    return event_leaf(
        position=_int_field(event, "position"),
        event_id=_text_field(event, "event_id"),
        stream_id=_text_field(event, "stream_id"),
        stream_version=_int_field(event, "stream_version"),
        type=_text_field(event, "type"),
        stated_at=None if stated is None else _int_field(event, "stated_at"),
        recorded_at=_int_field(event, "recorded_at"),
        payload_digest=digest,
    )


_MISSING = object()


def _int_field(event: Mapping[str, object], name: str) -> int:
    value = event.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidProof(f"the event's {name} is an integer, not {_clip(repr(value))}")
    return value


def _text_field(event: Mapping[str, object], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str):
        raise InvalidProof(f"the event's {name} is text, not {_clip(repr(value))}")
    return value


# -- C2SP signed-note --------------------------------------------------------------------------


def _b64(text: str, what: str, error: type[VerificationError]) -> bytes:
    """Strict standard base64: the one encoding of its bytes, so no two texts mean one value."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not base64: {_clip(text)!r}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not in canonical base64: {_clip(text)!r}")
    return raw


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _valid_name(name: str) -> bool:
    """C2SP: non-empty, with no Unicode space and no ``+`` (and, being in a note, no control)."""
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


def key_id(name: str, public_key: bytes) -> int:
    """The C2SP key id of an Ed25519 key: ``SHA-256(name || 0x0A || 0x01 || key)[:4]``."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class VerifierKey:
    """A trusted Ed25519 note key: its name, key id and 32-byte public key."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise MalformedKey(f"a key name is non-empty, without spaces or '+': {self.name!r}")
        if len(self.public_key) != 32:
            raise MalformedKey(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read ``name+hexkeyid+base64(0x01 || public key)``, checking the key id."""
        name, _, rest = text.partition("+")
        hex_id, plus, encoded = rest.partition("+")
        if not plus or not _KEY_ID.fullmatch(hex_id):
            raise MalformedKey(f"a verifier key is name+8 hex digits+base64 key: {_clip(text)!r}")
        raw = _b64(encoded, "the verifier key", MalformedKey)
        if not raw or raw[0] != ED25519:
            raise MalformedKey("the verifier key is not an Ed25519 key (type byte 0x01)")
        key = cls(name, raw[1:])
        if key.key_id != int(hex_id, 16):
            raise MalformedKey(f"the key id {hex_id} is not that of key {name!r}")
        return key

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: ``— name base64(key id || signature)``."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{_SIG_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    """A signed note's text (ending in a newline) and its signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(message: str | bytes) -> Note:
    """Split a signed note into its text and signature lines, checking the C2SP syntax only:
    no signature is verified (:func:`open_note` does that)."""
    message = _note_text(message)
    cut = message.rfind("\n\n")
    if cut < 0:
        raise MalformedNote("a signed note has a blank line between its text and its signatures")
    text, block = message[: cut + 1], message[cut + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("a signed note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"the note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return Note(text, tuple(_signature(line) for line in lines))


def _note_text(message: str | bytes) -> str:
    if len(message) > MAX_NOTE_LENGTH:
        raise MalformedNote(f"a note of {len(message)} characters is too long to be a checkpoint")
    try:
        text = message.decode("utf-8") if isinstance(message, bytes) else message
        text.encode("utf-8")  # a str may hold lone surrogates, which are not UTF-8
    except UnicodeError:
        raise MalformedNote("a signed note is UTF-8 text") from None
    bad = _CONTROL.search(text)
    if bad:
        raise MalformedNote(f"a signed note has no control characters but newline: {bad[0]!r}")
    return text


def _signature(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise MalformedNote(f"a signature line starts with an em dash and a space: {_clip(line)!r}")
    name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not _valid_name(name):
        raise MalformedNote(f"a signature's key name has no spaces or '+': {_clip(name)!r}")
    raw = _b64(encoded, f"the signature by {name!r}", MalformedNote)
    if len(raw) < 5:
        raise MalformedNote(f"the signature by {name!r} is too short to hold a key id")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def open_note(message: str | bytes, keys: Sequence[VerifierKey]) -> Note:
    """Verify a signed note against trusted ``keys``; return its text and the signatures that
    verified.

    As C2SP asks: signatures by unknown keys are ignored; a signature by a known key (same name
    and key id) that fails rejects the whole note; a note with no verified signature is rejected.
    """
    note = parse_note(message)
    known = _key_table(keys)
    verified: dict[tuple[str, int], NoteSignature] = {}
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not key.verifies(note.text.encode("utf-8"), sig.signature):
            raise BadSignature(f"the signature by {key.name}+{key.key_id:08x} does not verify")
        verified.setdefault((sig.name, sig.key_id), sig)
    if not verified:
        signers = ", ".join(f"{s.name}+{s.key_id:08x}" for s in note.signatures)
        trusted = ", ".join(f"{k.name}+{k.key_id:08x}" for k in keys) or "none"
        raise NoKnownSignature(f"no signature by a trusted key ({trusted}); signed by {signers}")
    return Note(note.text, tuple(verified.values()))


def _key_table(keys: Sequence[VerifierKey]) -> dict[tuple[str, int], VerifierKey]:
    table: dict[tuple[str, int], VerifierKey] = {}
    for key in keys:
        other = table.setdefault((key.name, key.key_id), key)
        if other.public_key != key.public_key:
            raise MalformedKey(f"two different keys named {key.name}+{key.key_id:08x}")
    return table


# -- C2SP tlog-checkpoint ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed state: origin, tree size and root hash, and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedCheckpoint(f"an origin is one non-empty line: {_clip(self.origin)!r}")
        if not 0 <= self.size < 1 << 63:
            raise MalformedCheckpoint(f"a tree size is a count of leaves, not {self.size}")
        if len(self.root) != HASH_SIZE:
            raise MalformedCheckpoint(f"a root hash has {HASH_SIZE} bytes, not {len(self.root)}")
        if any(not line or "\n" in line for line in self.extensions):
            raise MalformedCheckpoint("extension lines are non-empty single lines")

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint note text: origin, size, base64 root, extension lines."""
        if not text.endswith("\n"):
            raise MalformedCheckpoint("a checkpoint's text ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise MalformedCheckpoint("a checkpoint has three or more non-empty lines")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise MalformedCheckpoint(f"a tree size is a decimal without leading zeros: {size!r}")
        return cls(
            origin, int(size), _b64(root, "the root hash", MalformedCheckpoint), (*extensions,)
        )

    def text(self) -> str:
        """The note text, as signed."""
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


def open_checkpoint(message: str | bytes, keys: Sequence[VerifierKey]) -> Checkpoint:
    """Verify a signed checkpoint note against trusted ``keys`` and read its text."""
    return Checkpoint.parse(open_note(message, keys).text)


def verify_inclusion_in(
    checkpoint: str | bytes,
    keys: Sequence[VerifierKey],
    leaf: bytes,
    index: int,
    path: Sequence[bytes],
) -> Checkpoint:
    """Check that ``leaf`` (its bytes, not its hash) is leaf ``index`` of the log the signed
    ``checkpoint`` describes, with audit path ``path``; return the checkpoint."""
    opened = open_checkpoint(checkpoint, keys)
    verify_inclusion(leaf_hash(leaf), index, opened.size, path, opened.root)
    return opened


def verify_consistency_between(
    old: str | bytes, new: str | bytes, keys: Sequence[VerifierKey], path: Sequence[bytes]
) -> tuple[Checkpoint, Checkpoint]:
    """Check that signed checkpoint ``new`` extends signed checkpoint ``old`` of the same log."""
    before, after = open_checkpoint(old, keys), open_checkpoint(new, keys)
    if before.origin != after.origin:
        raise InvalidProof(f"the checkpoints are of two logs: {before.origin!r}, {after.origin!r}")
    verify_consistency(before.size, after.size, before.root, after.root, path)
    return before, after


@dataclass(frozen=True)
class InclusionProof:
    """A leaf, where it is and its audit path, and the signed checkpoint it is proven against:
    what ``factledger prove --json`` is to print (``index``, ``tree_size``, ``leaf`` and ``path``
    in base64, ``checkpoint`` the note text)."""

    index: int
    tree_size: int
    leaf: bytes
    path: tuple[bytes, ...]
    checkpoint: str
    #: The event the leaf holds (:data:`EVENT_FIELDS`), when the proof shows it.
    event: Mapping[str, object] | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, object]) -> InclusionProof:
        """Read the JSON object form, checking types (a hostile file is reported, not raised)."""
        index, size = _integer(doc, "index"), _integer(doc, "tree_size")
        leaf, path, note = doc.get("leaf"), doc.get("path"), doc.get("checkpoint")
        if not isinstance(leaf, str) or not isinstance(note, str):
            raise InvalidProof("a proof has its leaf in base64 and its checkpoint note as text")
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise InvalidProof("a proof's path is a list of base64 hashes")
        hashes = tuple(_b64(p, f"path hash {i}", InvalidProof) for i, p in enumerate(path))
        event = doc.get("event")
        if event is not None and not isinstance(event, dict):
            raise InvalidProof("a proof's event is a JSON object")
        return cls(index, size, _b64(leaf, "the leaf", InvalidProof), hashes, note, event)

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf": base64.b64encode(self.leaf).decode("ascii"),
            "path": [base64.b64encode(p).decode("ascii") for p in self.path],
            "checkpoint": self.checkpoint,
        }
        if self.event is not None:
            doc["event"] = dict(self.event)
        return doc

    def verify(self, keys: Sequence[VerifierKey], *, require_event: bool = False) -> Checkpoint:
        """Check the signature, that the proof is for the checkpoint's size, and the path; and,
        when the proof shows an event (or ``require_event``), that the leaf is exactly that
        event's leaf (:func:`leaf_of_event`) at its position."""
        if self.event is None and require_event:
            raise InvalidProof("the proof shows no event, only leaf bytes")
        if self.event is not None:
            if leaf_of_event(self.event) != self.leaf:
                raise InvalidProof("the leaf does not hold the event shown")
            if self.event["position"] != self.index + 1:
                raise InvalidProof(
                    f"the event shown is at position {self.event['position']}, "
                    f"not {self.index + 1} (leaf {self.index})"
                )
        opened = open_checkpoint(self.checkpoint, keys)
        if opened.size != self.tree_size:
            raise InvalidProof(
                f"the proof is for a tree of {self.tree_size}, the checkpoint of {opened.size}"
            )
        verify_inclusion(leaf_hash(self.leaf), self.index, opened.size, self.path, opened.root)
        return opened


@dataclass(frozen=True)
class ConsistencyProof:
    """Two signed checkpoints of one log and the RFC 9162 proof that the newer extends the
    older: what ``factledger prove --consistency --json`` prints (``old`` and ``new`` the note
    texts, ``old_size``, ``new_size``, ``path`` in base64)."""

    old: str
    new: str
    old_size: int
    new_size: int
    path: tuple[bytes, ...]

    @classmethod
    def from_json(cls, doc: Mapping[str, object]) -> ConsistencyProof:
        old, new, path = doc.get("old"), doc.get("new"), doc.get("path")
        if not isinstance(old, str) or not isinstance(new, str):
            raise InvalidProof("a consistency proof holds its two checkpoint notes as text")
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise InvalidProof("a proof's path is a list of base64 hashes")
        hashes = tuple(_b64(p, f"path hash {i}", InvalidProof) for i, p in enumerate(path))
        return cls(old, new, _integer(doc, "old_size"), _integer(doc, "new_size"), hashes)

    def to_json(self) -> dict[str, object]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "path": [base64.b64encode(p).decode("ascii") for p in self.path],
            "old": self.old,
            "new": self.new,
        }

    def verify(self, keys: Sequence[VerifierKey]) -> tuple[Checkpoint, Checkpoint]:
        """Check both signatures, that the sizes are the checkpoints', and the proof."""
        before, after = verify_consistency_between(self.old, self.new, keys, self.path)
        if (before.size, after.size) != (self.old_size, self.new_size):
            raise InvalidProof(
                f"the proof is from size {self.old_size} to {self.new_size}, the checkpoints "
                f"are of sizes {before.size} and {after.size}"
            )
        return before, after


def _integer(doc: Mapping[str, object], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidProof(f"a proof's {name} is an integer, not {_clip(repr(value))}")
    return value
