"""The ``VERIFY.md`` of an evidence pack: how a third party checks the pack with standard
tools alone (``sha256sum``, ``unzip``, a text editor, optionally ``openssl ts -verify``), what
the chain head in it means and what its RFC 3161 time-stamps prove."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from store.chainhead import ChainHead


@dataclass(frozen=True)
class PackStamp:
    """An RFC 3161 token in a pack: ``stem.tsr`` (the TimeStampResp) and ``stem.head.txt``
    (the stamped bytes), over ``head``, at the TSA's ``gen_time``; ``pem`` is the file of the
    TSA certificate the token carries (None when it carries none)."""

    stem: str
    head: ChainHead
    gen_time: str
    tsa_url: str
    pem: str | None

    def record(self) -> dict[str, str | None]:
        """The token's entry in the pack's ``summary.json``."""
        return {
            "token": f"{self.stem}.tsr",
            "head": self.head.text,
            "gen_time": self.gen_time,
            "tsa": self.tsa_url,
            "certificate": self.pem,
        }


_TEXT = """# How to check this evidence pack

This pack was written by {software} on the chain head `{head}`.
Nothing in it needs amendwatch to be checked.

## 1. Every file is intact

Unpack the zip into an empty folder and, inside it, run

    sha256sum -c SHA256SUMS

Every line must say `OK`. `SHA256SUMS` and `manifest.json` list the same SHA-256 for every
file of the pack other than themselves (this `VERIFY.md` included). On macOS use
`shasum -a 256 -c SHA256SUMS`.

## 2. The captures are the ones the chain recorded

`before/observation.json` and `after/observation.json` give the SHA-256 of each raw capture
(`body_sha256`); `sha256sum before/capture.html.txt after/capture.html.txt` must print the
same values. `observations.json` lists every observation of the chapter in the period, with
its `hash` and `prev_hash` in the observation chain.

## 3. The chain head

`summary.json` carries `chain_head`: `{count}` observations, the newest with chain hash
`{hash}`. Each observation's hash covers its fields and the hash of the one before it, so the
head fixes the whole history recorded up to the time of this pack: no observation at or before
it can be altered, removed or inserted without changing it.

Compare it with a head published independently (in a weekly digest, an email, an Atom feed,
or one you noted at an earlier audit): the pack's head must have a count at least as large.
Whoever holds the database can then prove the database still extends a published head with

    amendwatch --db COPY.db verify --against COUNT:HASH

and that it extends this pack's head with `verify --against {head}`. An observation hash
listed in `observations.json` is checked the same way: `verify` on the database must succeed
and the row with that id must carry that hash.

## 4. What the versions mean

In `summary.json`, `valid_from` is the time a version took effect (its first observation)
and `valid_to` the time the next version took effect (`null`: it is still the current one);
`last_seen` is the last observation that saw it unchanged.
"""


_STAMPS = """
## 5. RFC 3161 time-stamps

A time-stamping authority (TSA) signed the chain head of a run: a token proves the head, so
the whole history up to it, existed at the TSA's time. What was stamped is the head's text as
`amendwatch verify` prints it (`COUNT.SEALS:HASH`; `COUNT:HASH` for a head of the observations
alone) in ASCII with no newline; the token's message imprint is the SHA-256 of those bytes.
For each token, `timestamps/<name>.head.txt` holds exactly those bytes (so does
`printf '%s' COUNT.SEALS:HASH > head.txt`), `timestamps/<name>.tsr` the TSA's answer (a DER
TimeStampResp) and `timestamps/tsa-<n>.pem` the TSA certificate the token carries.

Get the TSA's CA certificate from the TSA itself, not from this pack (say `tsa-ca.pem`),
then check each token with OpenSSL; each must print `Verification: OK`:
{tokens}
`openssl ts -reply -in FILE.tsr -text` shows the TSA's time and the imprint, which
`sha256sum FILE.head.txt` reproduces. With only the TSA's own certificate, compare its
fingerprint (`openssl x509 -in timestamps/tsa-<n>.pem -noout -fingerprint -sha256`) with the
one the TSA publishes, then use `-CAfile timestamps/tsa-<n>.pem -partial_chain` instead.

A valid token also needs its head in the database's chain: `amendwatch --db COPY.db verify
--against HEAD`, with the token's head (the text of its `.head.txt`), must succeed (`verify`
checks every stored token this way, offline). A rewritten or truncated history contradicts
the token.
"""

_NO_STAMPS = """
## 5. RFC 3161 time-stamps

No RFC 3161 time-stamp token covers a head at or before this pack's head (time-stamping each
run's head by a TSA is optional: `[timestamp] url` in the configuration).
"""


def _token_lines(stamp: PackStamp) -> str:
    pem = f", certificate `{stamp.pem}`" if stamp.pem else ", no certificate carried"
    return (
        f"\n- `{stamp.stem}.tsr`: head `{stamp.head.text}`, stamped {stamp.gen_time} by"
        f" {stamp.tsa_url}{pem}\n\n"
        f"      openssl ts -verify -data {stamp.stem}.head.txt -in {stamp.stem}.tsr"
        " -CAfile tsa-ca.pem\n"
    )


def verify_md(head: ChainHead, software: str, stamps: Sequence[PackStamp] = ()) -> str:
    """The ``VERIFY.md`` text for a pack written at ``head``, with its time-stamp tokens."""
    text = _TEXT.format(software=software, head=head.text, count=head.count, hash=head.hash)
    if not stamps:
        return text + _NO_STAMPS
    return text + _STAMPS.format(tokens="".join(_token_lines(stamp) for stamp in stamps))
