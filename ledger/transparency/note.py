"""Ed25519 note signing keys, and signing notes and checkpoints (C2SP signed-note).

The key file form is Go's ``golang.org/x/mod/sumdb/note`` signer key,
``PRIVATE+KEY+name+hexkeyid+base64(0x01 || 32-byte seed)``, so a key made here signs the same
bytes as one made by Go's ``note.GenerateKey`` and either tool can use the other's keys. Only the
verifying half (:mod:`ledger.transparency.offline`) has to be vendorable; this one may use attrs.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.transparency.offline import (
    ED25519,
    Checkpoint,
    MalformedKey,
    MalformedNote,
    NoteSignature,
    VerifierKey,
    parse_note,
)

_PREFIX = "PRIVATE+KEY+"
_KEY_ID = re.compile(r"[0-9a-f]{8}")


@attrs.frozen
class SigningKey:
    """A named Ed25519 signing key. Its ``str`` is the secret key file's one line; its repr
    leaves the seed out so that a log line or a traceback never prints it."""

    name: str
    seed: bytes = attrs.field(repr=False)
    verifier: VerifierKey = attrs.field(init=False, repr=True)

    @verifier.default
    def _verifier(self) -> VerifierKey:
        if len(self.seed) != 32:
            raise MalformedKey(f"an Ed25519 seed has 32 bytes, not {len(self.seed)}")
        public = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(self.name, public)  # checks the name

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        """A new random key named ``name`` (a schema-less URL such as ``example.org/ledger``
        is the recommended kind of name; it must have no spaces and no ``+``)."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        """Read ``PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)``, checking the key id."""
        if not text.startswith(_PREFIX):
            raise MalformedKey("a signing key starts with PRIVATE+KEY+")
        name, _, rest = text[len(_PREFIX) :].partition("+")
        hex_id, plus, encoded = rest.partition("+")
        if not plus or not _KEY_ID.fullmatch(hex_id):
            raise MalformedKey("a signing key is PRIVATE+KEY+name+8 hex digits+base64 seed")
        raw = _strict_b64(encoded)
        if len(raw) != 33 or raw[0] != ED25519:
            raise MalformedKey("the signing key is not an Ed25519 seed (0x01 and 32 bytes)")
        key = cls(name, raw[1:])
        if key.verifier.key_id != int(hex_id, 16):
            raise MalformedKey(f"the key id {hex_id} is not that of key {name!r}")
        return key

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode("ascii")
        return f"{_PREFIX}{self.name}+{self.verifier.key_id:08x}+{encoded}"

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self._private().sign(message)

    def signature(self, text: str) -> NoteSignature:
        """This key's signature line over a note text."""
        return NoteSignature(self.name, self.verifier.key_id, self.sign(text.encode("utf-8")))


def _strict_b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise MalformedKey("the signing key's seed is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedKey("the signing key's seed is not in canonical base64")
    return raw


def sign_note(text: str, keys: Sequence[SigningKey]) -> str:
    """The signed note of ``text`` (which ends in a newline) by every key in ``keys``."""
    if not keys:
        raise ValueError("a signed note needs at least one key")
    if not text.endswith("\n"):
        raise MalformedNote("a note text ends with a newline")
    signed = text + "\n" + "".join(key.signature(text).line() for key in keys)
    if parse_note(signed).text != text:  # control characters, bad UTF-8 and the like
        raise MalformedNote("the text cannot be a signed note's text")
    return signed


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> str:
    """A C2SP tlog-checkpoint: the checkpoint's text as a note signed by ``key``."""
    return sign_note(checkpoint.text(), [key])
