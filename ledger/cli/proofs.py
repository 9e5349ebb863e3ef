"""``factledger keygen``, ``prove`` and ``verify-proof``, and the signed forms of ``checkpoint
--sign`` and ``verify --checkpoint NOTE`` (issue 15; docs/proofs.md).

``checkpoint`` and ``verify`` are defined in :mod:`ledger.cli.commands`; this module adds the
``--sign`` option to the first and lets the second's ``--checkpoint`` take a signed note (with
``--key``) as well as ``POSITION:HASH``, by wrapping the commands once they are registered, so
that their unsigned forms stay exactly as they were.

Notes, keys and proofs are given as a file or as the text itself (what ``"$(…)"`` passes).
``verify-proof`` reads no database: it checks with :mod:`ledger.transparency.offline` only.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from ledger.cli import commands, render
from ledger.cli.app import Failure, cli, db_option, example, json_option, opened, print_json
from ledger.proofs import chain_checkpoint
from ledger.transparency import offline
from ledger.transparency.note import SigningKey


def _text(value: str, what: str) -> str:
    """``value`` itself if it is a text (it spans lines, or is a JSON object), else the file it
    names (``-``: stdin)."""
    if value == "-":
        return sys.stdin.read()
    if "\n" in value or value.lstrip().startswith("{"):
        return value
    try:
        return Path(value).read_text(encoding="utf-8")
    except OSError as e:
        raise Failure(f"cannot read the {what} {value!r}: {e.strerror or e}") from e


def _note(value: str) -> str:
    text = _text(value, "checkpoint note")
    return text if text.endswith("\n") else text + "\n"


def _keys(values: Sequence[str]) -> list[offline.VerifierKey]:
    keys = []
    for value in values:
        text = _text(value, "key") if Path(value).is_file() else value
        try:
            keys.append(offline.VerifierKey.parse(text.strip()))
        except offline.VerificationError as e:
            raise Failure(f"--key {value!r}: {e}") from e
    return keys


def _signing_key(path: str) -> SigningKey:
    try:
        return SigningKey.parse(Path(path).read_text(encoding="utf-8").strip())
    except OSError as e:
        raise Failure(f"cannot read the signing key {path!r}: {e.strerror or e}") from e
    except offline.VerificationError as e:
        raise Failure(f"{path}: not a signing key: {e}") from e


def key_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--key",
        "keys",
        metavar="VERIFIER_KEY",
        multiple=True,
        help="A trusted verifier key (name+id+key, as keygen prints it), or a file holding "
        "one; repeat for several.",
    )(f)


# -- keygen ----------------------------------------------------------------------------------


@cli.command(
    epilog=example("factledger keygen example.org/claims --output claims.key > claims.vkey")
)
@click.argument("name")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    default="signing.key",
    show_default=True,
    help="Where to write the signing key (created with mode 0600; never overwritten).",
)
@click.option("--verifier-output", metavar="FILE", help="Also write the verifier key to this file.")
def keygen(name: str, output: str, verifier_output: str | None) -> None:
    """Make an Ed25519 signing key NAME (the log's origin, e.g. example.org/claims) for signed
    checkpoints: write it to --output, readable by its owner only, and print the verifier key
    to publish (name+keyid+base64)."""
    try:
        key = SigningKey.generate(name)
    except offline.VerificationError as e:
        raise Failure(f"{name!r}: {e}") from e
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Failure(f"{output} exists: a signing key is never overwritten") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"{key}\n")
    if verifier_output is not None:
        Path(verifier_output).write_text(f"{key.verifier}\n", encoding="utf-8")
    click.echo(str(key.verifier))


# -- checkpoint --sign -----------------------------------------------------------------------


def _extend_checkpoint(command: click.Command) -> None:
    """``checkpoint --sign KEYFILE``: the signed note instead of the POSITION:HASH line."""
    unsigned = command.callback
    assert unsigned is not None

    def callback(*, as_json: bool, sign: str | None, **rest: Any) -> None:
        if sign is None:
            unsigned(as_json=as_json, **rest)
            return
        key = _signing_key(sign)
        with opened() as lg:
            note = lg.checkpoint_note(key)
        if as_json:
            cp = offline.Checkpoint.parse(offline.parse_note(note).text)
            chain = chain_checkpoint(cp)
            print_json(
                {
                    "origin": cp.origin,
                    "tree_size": cp.size,
                    "root": base64.b64encode(cp.root).decode("ascii"),
                    "checkpoint": None if chain is None else f"{chain[0]}:{chain[1]}",
                    "note": note,
                }
            )
        else:
            click.echo(note, nl=False)

    command.callback = callback
    command.params.insert(
        0,
        click.Option(
            ["--sign"],
            metavar="KEYFILE",
            help="Print the checkpoint as a C2SP signed note (origin, tree size, Merkle root, "
            "chain head) signed with this key (see keygen), instead of POSITION:HASH.",
        ),
    )
    command.epilog = example("factledger checkpoint --sign claims.key > checkpoint.note")


# -- verify --checkpoint NOTE ----------------------------------------------------------------


class _Note(str):
    """A ``--checkpoint`` value that is a signed note, not POSITION:HASH."""


def _extend_verify(command: click.Command) -> None:
    plain = command.callback
    assert plain is not None
    option = next(p for p in command.params if p.name == "checkpoint")
    parse_plain = option.callback
    assert parse_plain is not None

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
        if value is not None and ("\n" in value or Path(value).is_file()):
            return _Note(_note(value))
        return parse_plain(ctx, param, value)  # POSITION:HASH, or its usage error

    def callback(*, checkpoint: object, keys: tuple[str, ...], as_json: bool, **rest: Any) -> None:
        if not isinstance(checkpoint, _Note):
            if keys:
                raise click.UsageError("--key checks a signed checkpoint note's signature")
            plain(checkpoint=checkpoint, as_json=as_json, **rest)
            return
        trusted = _keys(keys)
        with opened() as lg:
            report = lg.verify_checkpoint(str(checkpoint), keys=trusted)
        if as_json:
            print_json(report.to_dict() | {"signature_checked": bool(trusted)})
        else:
            render.console().print(render.verify(report))
            if not trusted:
                click.echo(
                    "note: the checkpoint's signature was not checked (give --key)", err=True
                )
        if not report.ok:
            sys.exit(1)

    command.callback = callback
    option.callback = parse
    option.metavar = "POSITION:HASH|NOTE"
    option.help = (
        "Also check that the log still extends this earlier checkpoint: POSITION:HASH as "
        "`factledger checkpoint` prints it, or a signed note (a file, or its text) from "
        "`checkpoint --sign`, whose Merkle root and chain head are both checked."
    )
    key_option(command)
    command.epilog = example("factledger verify --checkpoint checkpoint.note --key claims.vkey")


# -- prove -----------------------------------------------------------------------------------


@cli.command(epilog=example("factledger prove kr-nis --checkpoint checkpoint.note -o proof.json"))
@click.argument("ident", metavar="[ID]", required=False)
@click.option(
    "--checkpoint",
    metavar="NOTE",
    help="The signed checkpoint (a file, or its text) to prove the event against.",
)
@click.option(
    "--consistency",
    nargs=2,
    metavar="OLD_NOTE NEW_NOTE",
    help="Instead: prove that the checkpoint NEW_NOTE extends OLD_NOTE.",
)
@click.option("-o", "--output", metavar="FILE", help="Also write the proof, as JSON, to FILE.")
@key_option
@json_option
@db_option
def prove(
    *,
    ident: str | None,
    checkpoint: str | None,
    consistency: tuple[str, str] | None,
    output: str | None,
    keys: tuple[str, ...],
    as_json: bool,
) -> None:
    """Prove that event ID (an event id, TYPE/KEY, or a record id such as a statement id) is
    in the log of a signed checkpoint: the event as stored with its salt, its leaf, index, the
    tree size and the RFC 9162 audit path. With --consistency, prove that one checkpoint
    extends another. Anyone can check the proof with `verify-proof`, without the database."""
    trusted = _keys(keys)
    if consistency:
        if ident is not None or checkpoint is not None:
            raise click.UsageError("--consistency takes two notes and no ID or --checkpoint")
        with opened() as lg:
            proof: Any = lg.prove_consistency(
                _note(consistency[0]), _note(consistency[1]), keys=trusted
            )
        summary = (
            f"the tree of {proof.new_size} events extends the tree of {proof.old_size} "
            f"({len(proof.path)} hashes)"
        )
    else:
        if ident is None or checkpoint is None:
            raise click.UsageError("give an event ID and --checkpoint NOTE (or --consistency)")
        with opened() as lg:
            proof = lg.prove(ident, _note(checkpoint), keys=trusted)
        event = proof.event
        summary = (
            f"event {event['position']} ({event['type']} {event['stream_id']}) is leaf "
            f"{proof.index} of the tree of {proof.tree_size} events ({len(proof.path)} hashes)"
        )
    document = proof.to_json()
    if output is not None:
        Path(output).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    if as_json:
        print_json(document)
    else:
        click.echo(summary)


# -- verify-proof ----------------------------------------------------------------------------


@cli.command("verify-proof", epilog=example("factledger verify-proof proof.json --key claims.vkey"))
@click.argument("proof_file", metavar="PROOF")
@key_option
@json_option
def verify_proof(proof_file: str, keys: tuple[str, ...], as_json: bool) -> None:
    """Check a proof from `prove` (a file, its JSON text, or - for stdin) with no database:
    the checkpoint's signature by a --key, the audit path to its root, and that the leaf holds
    exactly the event shown (its metadata, and its payload's digest with the salt given).
    Exit 0 and "ok" if it holds; exit 1 and what failed if not."""
    trusted = _keys(keys)
    if not trusted:
        raise click.UsageError("give the verifier key that signed the checkpoint: --key KEY")
    try:
        document = json.loads(_text(proof_file, "proof"))
        if not isinstance(document, dict):
            raise offline.InvalidProof("a proof is a JSON object")
        said, extra = _checked(document, trusted)
    except (offline.VerificationError, ValueError) as e:
        if as_json:
            print_json({"ok": False, "problem": str(e)})
        else:
            click.echo(f"FAILED: {e}")
        sys.exit(1)
    if as_json:
        print_json({"ok": True} | extra)
    else:
        click.echo(f"ok: {said}")


def _checked(
    document: dict[str, Any], keys: Sequence[offline.VerifierKey]
) -> tuple[str, dict[str, Any]]:
    if "old" in document:
        proof = offline.ConsistencyProof.from_json(document)
        before, after = proof.verify(keys)
        said = f"{after.origin} at {after.size} events extends its checkpoint of {before.size}"
        return said, {"origin": after.origin, "old_size": before.size, "new_size": after.size}
    inclusion = offline.InclusionProof.from_json(document)
    cp = inclusion.verify(keys, require_event=True)
    event = dict(inclusion.event or {})
    said = (
        f"{event['type']} {event['stream_id']} (position {event['position']}) is leaf "
        f"{inclusion.index} of {cp.origin} at {cp.size} events"
    )
    return said, {"origin": cp.origin, "tree_size": cp.size, "index": inclusion.index} | {
        "event": event
    }


_extend_checkpoint(commands.checkpoint)
_extend_verify(commands.verify)
