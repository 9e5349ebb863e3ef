"""C2SP signed notes and tlog checkpoints: Go's published vectors, the rules of the two specs, and
Hypothesis properties over keys, checkpoints and proofs bound to a signed checkpoint."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.transparency.merkle import MemoryNodes, consistency_proof, inclusion_proof, tree_root
from ledger.transparency.note import SigningKey, sign_checkpoint, sign_note
from ledger.transparency.offline import (
    BadSignature,
    Checkpoint,
    InclusionProof,
    InvalidProof,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    NoKnownSignature,
    NoteSignature,
    VerificationError,
    VerifierKey,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    verify_consistency_between,
    verify_inclusion_in,
)
from tests.strategies import flip_bit, leaf_in_tree, note_key_names, tree_and_old_size

# -- Vectors from golang.org/x/mod, sumdb/note/note_test.go (BSD-3-Clause) ----------------------

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)
PETER = VerifierKey.parse(PETER_VKEY)
ENOCH = VerifierKey.parse(ENOCH_VKEY)

# From C2SP tlog-checkpoint.md (the example checkpoint; its key is not published).
SOFA = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def test_a_go_signing_key_signs_the_go_note_byte_for_byte() -> None:
    key = SigningKey.parse(PETER_SKEY)
    assert str(key) == PETER_SKEY
    assert str(key.verifier) == PETER_VKEY
    assert sign_note(TEXT, [key]) == TEXT + "\n" + PETER_SIG


def test_the_go_verifier_keys_parse_to_their_key_ids() -> None:
    assert (PETER.name, PETER.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert (ENOCH.name, ENOCH.key_id) == ("EnochRoot", 0xAF0CFE78)
    assert key_id(PETER.name, PETER.public_key) == PETER.key_id
    assert str(PETER) == PETER_VKEY


def _rejected_key(text: str) -> bool:
    try:
        VerifierKey.parse(text)
    except MalformedKey:
        return True
    return False


def test_every_mangling_of_a_verifier_key_is_rejected() -> None:
    # TestNewVerifier: every proper substring and every byte incremented.
    n = len(PETER_VKEY)
    substrings = [PETER_VKEY[i:j] for i in range(n + 1) for j in range(i + 1, n + 1)]
    mangled = [s for s in substrings if s != PETER_VKEY]
    mangled += [
        PETER_VKEY[:i] + chr(ord(c) + 1) + PETER_VKEY[i + 1 :] for i, c in enumerate(PETER_VKEY)
    ]
    # Wrong key length and unknown algorithm, each with its key id adjusted to match.
    mangled += [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ]
    assert [k for k in mangled if not _rejected_key(k)] == []


def test_every_mangling_of_a_signing_key_is_rejected() -> None:
    # TestNewSigner: every proper substring and every byte incremented.
    n = len(PETER_SKEY)
    mangled = [PETER_SKEY[i:j] for i in range(n + 1) for j in range(i + 1, n + 1)]
    mangled = [s for s in mangled if s != PETER_SKEY]
    mangled += [
        PETER_SKEY[:i] + chr(ord(c) + 1) + PETER_SKEY[i + 1 :] for i, c in enumerate(PETER_SKEY)
    ]
    accepted = []
    for text in mangled:
        try:
            SigningKey.parse(text)
        except MalformedKey:
            continue
        accepted.append(text)
    assert accepted == []


def test_a_note_opens_with_the_signatures_of_trusted_keys_and_ignores_the_rest() -> None:
    # TestOpen: one trusted key, then both.
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER])
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    both = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER, ENOCH])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]
    again = open_note(TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG, [PETER])
    assert len(again.signatures) == 1  # the same key's signature counts once


def test_a_note_with_no_trusted_signature_is_rejected() -> None:
    with pytest.raises(NoKnownSignature, match="PeterNeumann\\+c74f20a3"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    with pytest.raises(NoKnownSignature):
        open_note(TEXT + "\n" + ENOCH_SIG, [PETER])


def test_a_trusted_signature_that_fails_rejects_the_whole_note() -> None:
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]  # TestOpen's invalid signature
    with pytest.raises(BadSignature, match="PeterNeumann\\+c74f20a3 does not verify"):
        open_note(TEXT + "\n" + broken, [PETER])
    with pytest.raises(BadSignature):
        open_note(TEXT + "\n" + ENOCH_SIG + broken, [PETER, ENOCH])


def test_a_signature_sharing_only_the_name_or_only_the_key_id_is_ignored() -> None:
    renamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    other_id = PETER_SIG.replace("x08g", "xxxx")
    for sig in (renamed, other_id):
        with pytest.raises(NoKnownSignature):
            open_note(TEXT + "\n" + sig, [PETER])


@pytest.mark.parametrize(
    "message",
    [  # TestOpen's badMsgs
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
        "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,  # too many signatures
        TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",  # too short to hold a key id
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # not the canonical base64
        TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
    ],
)
def test_text_that_is_not_a_signed_note_is_malformed(message: str) -> None:
    with pytest.raises(MalformedNote):
        open_note(message, [PETER])


def test_invalid_utf8_is_not_a_note() -> None:
    with pytest.raises(MalformedNote, match="UTF-8"):
        parse_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode())


def test_the_c2sp_example_checkpoint_parses() -> None:
    note = parse_note(SOFA)
    checkpoint = Checkpoint.parse(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.text() == note.text
    assert [s.name for s in note.signatures] == ["example.com/behind-the-sofa"]
    assert len(note.signatures[0].signature) == 64
    with pytest.raises(NoKnownSignature):
        open_checkpoint(SOFA, [PETER])


ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"log\n12\n{ROOT_B64}",  # no final newline
        "log\n12\n",
        f"\n12\n{ROOT_B64}\n",
        f"log\n012\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n+5\n{ROOT_B64}\n",
        f"log\n\uff11\uff12\n{ROOT_B64}\n",  # full-width digits
        f"log\n99999999999999999999\n{ROOT_B64}\n",
        f"log\n12\n{base64.b64encode(bytes(31)).decode()}\n",
        f"log\n12\n{ROOT_B64[:-2]}B=\n",  # not canonical
        f"log\n12\n{ROOT_B64}\n\n",  # an empty extension line
    ],
)
def test_a_text_that_is_not_a_checkpoint_is_rejected(text: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_extension_lines_are_kept_and_signed() -> None:
    text = f"example.org/ledger\n0\n{ROOT_B64}\nextra one\nextra two\n"
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.extensions == ("extra one", "extra two")
    assert checkpoint.text() == text


def test_a_note_text_without_a_final_newline_cannot_be_signed() -> None:
    key = SigningKey.parse(PETER_SKEY)
    for text in ("no newline", "bell\x07\n"):
        with pytest.raises(MalformedNote):
            sign_note(text, [key])


def test_a_signing_keys_repr_never_shows_its_seed() -> None:
    key = SigningKey.parse(PETER_SKEY)
    assert key.seed.hex() not in repr(key)
    assert repr(key.seed) not in repr(key)
    assert "PeterNeumann" in repr(key)


# -- Properties --------------------------------------------------------------------------------

seeds = st.binary(min_size=32, max_size=32)


@given(note_key_names(), seeds)
def test_keys_round_trip_through_their_text_forms(name: str, seed: bytes) -> None:
    key = SigningKey(name, seed)
    assert SigningKey.parse(str(key)) == key
    assert VerifierKey.parse(str(key.verifier)) == key.verifier


@st.composite
def checkpoints(draw: st.DrawFn) -> Checkpoint:
    return Checkpoint(
        draw(note_key_names()),
        draw(st.integers(min_value=0, max_value=2**63 - 1)),
        draw(st.binary(min_size=32, max_size=32)),
        tuple(draw(st.lists(note_key_names(), max_size=2))),
    )


@given(checkpoints(), note_key_names(), seeds, st.data())
def test_a_signed_checkpoint_opens_to_itself_and_any_flipped_bit_is_caught(
    checkpoint: Checkpoint, name: str, seed: bytes, data: st.DataObject
) -> None:
    key = SigningKey(name, seed)
    note = sign_checkpoint(checkpoint, key)
    assert open_checkpoint(note, [key.verifier]) == checkpoint
    raw = note.encode()
    with pytest.raises(VerificationError):
        open_checkpoint(data.draw(flip_bit(raw)), [key.verifier])


@given(checkpoints(), seeds, st.data())
def test_a_flipped_bit_in_the_signature_or_its_key_id_is_caught(
    checkpoint: Checkpoint, seed: bytes, data: st.DataObject
) -> None:
    key = SigningKey("example.org/ledger", seed)
    signature = key.signature(checkpoint.text())
    flipped = data.draw(flip_bit(signature.signature))
    with pytest.raises(BadSignature):
        open_checkpoint(
            checkpoint.text() + "\n" + NoteSignature(key.name, key.verifier.key_id, flipped).line(),
            [key.verifier],
        )
    other_id = data.draw(flip_bit(signature.key_id.to_bytes(4, "big")))
    forged = NoteSignature(key.name, int.from_bytes(other_id, "big"), signature.signature)
    with pytest.raises(NoKnownSignature):  # an unknown key: ignored, so nothing trusted signed
        open_checkpoint(checkpoint.text() + "\n" + forged.line(), [key.verifier])


@given(seeds, seeds)
def test_a_note_signed_by_another_key_of_the_same_name_is_not_trusted(
    seed: bytes, other: bytes
) -> None:
    trusted, impostor = (
        SigningKey("example.org/ledger", seed),
        SigningKey("example.org/ledger", other),
    )
    note = sign_note("example.org/ledger\n1\n" + ROOT_B64 + "\n", [impostor])
    if trusted.verifier.public_key == impostor.verifier.public_key:
        assert open_note(note, [trusted.verifier]).text.startswith("example.org/ledger\n")
        return
    with pytest.raises(BadSignature):  # NoKnownSignature unless the 32-bit key ids collide
        open_note(note, [trusted.verifier])


LOG = SigningKey("example.org/ledger", bytes(range(32)))


def _signed(leaves: list[bytes]) -> str:
    return sign_checkpoint(Checkpoint("example.org/ledger", len(leaves), tree_root(leaves)), LOG)


@given(leaf_in_tree())
def test_every_inclusion_proof_verifies_against_a_signed_checkpoint_and_through_json(
    tree: tuple[list[bytes], int],
) -> None:
    leaves, index = tree
    audit = inclusion_proof(MemoryNodes.of(leaves), index, len(leaves))
    note = _signed(leaves)
    assert verify_inclusion_in(note, [LOG.verifier], leaves[index], index, audit).size == len(
        leaves
    )
    doc = json.loads(
        json.dumps(InclusionProof(index, len(leaves), leaves[index], tuple(audit), note).to_json())
    )
    assert InclusionProof.from_json(doc).verify([LOG.verifier]).root == tree_root(leaves)


@given(leaf_in_tree(), st.data())
def test_a_flipped_bit_in_a_json_proofs_leaf_index_size_path_or_checkpoint_fails(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, index = tree
    audit = tuple(inclusion_proof(MemoryNodes.of(leaves), index, len(leaves)))
    good = InclusionProof(index, len(leaves), leaves[index], audit, _signed(leaves))
    bit = data.draw(st.integers(min_value=0, max_value=62))
    bad = [
        InclusionProof(index ^ (1 << bit), good.tree_size, good.leaf, audit, good.checkpoint),
        InclusionProof(index, good.tree_size ^ (1 << bit), good.leaf, audit, good.checkpoint),
        InclusionProof(
            index, good.tree_size, data.draw(flip_bit(good.leaf)), audit, good.checkpoint
        ),
        InclusionProof(
            index,
            good.tree_size,
            good.leaf,
            audit,
            data.draw(flip_bit(good.checkpoint.encode())).decode("utf-8", "replace"),
        ),
    ]
    if audit:
        at = data.draw(st.integers(min_value=0, max_value=len(audit) - 1))
        path = [*audit]
        path[at] = data.draw(flip_bit(audit[at]))
        bad.append(InclusionProof(index, good.tree_size, good.leaf, tuple(path), good.checkpoint))
    for proof in bad:
        with pytest.raises(VerificationError):
            proof.verify([LOG.verifier])


@given(tree_and_old_size(), st.data())
def test_consistency_between_two_signed_checkpoints_verifies_and_a_flipped_bit_fails(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, old = tree
    audit = consistency_proof(MemoryNodes.of(leaves), old, len(leaves))
    before, after = _signed(leaves[:old]), _signed(leaves)
    opened = verify_consistency_between(before, after, [LOG.verifier], audit)
    assert (opened[0].size, opened[1].size) == (old, len(leaves))
    with pytest.raises(VerificationError):
        verify_consistency_between(
            data.draw(flip_bit(before.encode())), after, [LOG.verifier], audit
        )
    with pytest.raises(VerificationError):
        verify_consistency_between(
            before, data.draw(flip_bit(after.encode())), [LOG.verifier], audit
        )


def test_checkpoints_of_two_logs_are_not_consistent() -> None:
    ours = _signed([b"a"])
    theirs = sign_checkpoint(Checkpoint("example.org/other", 1, tree_root([b"a"])), LOG)
    with pytest.raises(InvalidProof, match="two logs"):
        verify_consistency_between(ours, theirs, [LOG.verifier], [])


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"index": "0", "tree_size": 1, "leaf": "", "path": [], "checkpoint": ""},
        {"index": True, "tree_size": 1, "leaf": "", "path": [], "checkpoint": ""},
        {"index": 0, "tree_size": 1, "leaf": "", "path": "AAAA", "checkpoint": ""},
        {"index": 0, "tree_size": 1, "leaf": "", "path": [1], "checkpoint": ""},
        {"index": 0, "tree_size": 1, "leaf": "!", "path": [], "checkpoint": ""},
        {"index": 0, "tree_size": 1, "leaf": "", "path": [], "checkpoint": None},
    ],
)
def test_a_json_proof_of_the_wrong_shape_is_reported(doc: dict[str, object]) -> None:
    with pytest.raises(InvalidProof):
        InclusionProof.from_json(doc)
