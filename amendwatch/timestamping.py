"""RFC 3161 time-stamps of the chain head (issue 15, part 2): the network and crypto side.
:func:`stamp_head` asks a time-stamping authority (TSA) for a token over :func:`stamped_bytes`
(``rfc3161-client``), checks and stores it, and stores any failure instead of raising;
:func:`check_stamps` checks every stored token offline (its CMS signature with ``cryptography``,
its chain with ``rfc3161-client``, its imprint, its head in the chain); :func:`pack_files`
gives the tokens to an evidence pack."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from sqlite_utils import Database

from amendwatch.errors import ConfigError, FetchError, IntegrityError
from store import timestamps
from store.chainhead import ChainHead, check_extends
from store.packdoc import PackStamp
from store.rows import shorten, to_db_time

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_ANSWER = 1 << 20  # a TimeStampResp is a few kilobytes; more is not one

_SIGNED_DATA = "1.2.840.113549.1.7.2"
_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}


def stamped_bytes(head: ChainHead) -> bytes:
    """The exact bytes that are time-stamped: the head's text as ``verify`` prints it
    (``COUNT.SEALS:HASH``) in ASCII, no newline (what ``printf '%s' COUNT.SEALS:HASH``
    writes)."""
    return head.text.encode("ascii")


def head_imprint(head: ChainHead) -> bytes:
    """The message imprint of a head's token: SHA-256 of :func:`stamped_bytes`."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(stamped_bytes(head))
    return digest.finalize()


@dataclass(frozen=True)
class StampResult:
    """The outcome of one request: ``error`` is None when a checked token was stored."""

    stamp_id: int
    head: ChainHead
    tsa_url: str
    gen_time: datetime | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.gen_time is not None:
            return (
                f"chain head {self.head.text[:32]}... time-stamped by"
                f" {self.tsa_url} at {to_db_time(self.gen_time)}"
            )
        return f"time-stamp of the chain head failed: {self.error}"


@dataclass(frozen=True)
class StampCheck:
    """The offline check of stored token ``stamp_id``: ``problems`` is empty when it holds."""

    stamp_id: int
    run_id: int | None
    head: ChainHead
    gen_time: datetime | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        when = to_db_time(self.gen_time) if self.gen_time else "no time"
        run = f"run {self.run_id}" if self.run_id is not None else "no run"
        verdict = "ok" if self.ok else "; ".join(self.problems)
        head = self.head.text.split(":")[0]
        return f"time-stamp {self.stamp_id} ({run}, {when}) of head {head}: {verdict}"


def load_trust(pem: bytes) -> tuple[x509.Certificate, ...]:
    """The certificates of a PEM file: the TSA's CA (or its own) certificate."""
    try:
        found = tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise ConfigError(
            f"the TSA trust file holds no PEM certificate ({exc})",
            hint="set [timestamp] ca_file to the TSA's CA certificate in PEM form",
        ) from exc
    return found


# requesting -----------------------------------------------------------------------------------
def stamp_head(
    db: Database,
    client: httpx.Client,
    url: str,
    head: ChainHead,
    run_id: int | None,
    now: datetime,
    *,
    trust_pem: bytes | None = None,
) -> StampResult:
    """Ask the TSA at ``url`` for a token over ``head`` and store the outcome. Every expected
    failure (network, HTTP status, an answer that is not a granted token over this head and
    nonce with a valid signature) is stored as 'failed' and returned, never raised."""
    trust = load_trust(trust_pem) if trust_pem else ()
    request = (
        TimestampRequestBuilder()
        .data(stamped_bytes(head))
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    stored = timestamps.StampRequest(run_id, head, url, now)
    try:
        token = _post(client, url, request.as_bytes())
        gen_time = _accept(token, head, request.nonce, trust)
    except FetchError as exc:
        error = shorten(str(exc.args[0]))
        return StampResult(timestamps.record_failure(db, stored, error), head, url, None, error)
    stamp_id = timestamps.record_token(db, stored, gen_time, token)
    return StampResult(stamp_id, head, url, gen_time, None)


def _post(client: httpx.Client, url: str, query: bytes) -> bytes:
    headers = {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
    try:
        with client.stream("POST", url, content=query, headers=headers) as response:
            if response.status_code != 200:
                raise FetchError(f"the TSA answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER:
                    raise FetchError(f"the TSA's answer is over {MAX_ANSWER} bytes")
    except httpx.TimeoutException as exc:
        raise FetchError(f"the TSA did not answer in time ({type(exc).__name__})") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchError(f"cannot reach the TSA: {str(exc) or type(exc).__name__}") from exc
    return bytes(body)


def _accept(
    token: bytes, head: ChainHead, nonce: int | None, trust: Sequence[x509.Certificate]
) -> datetime:
    """The token's time, once it is a granted token over ``head`` and ``nonce``."""
    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise FetchError("the TSA's answer is not an RFC 3161 time-stamp response") from exc
    if response.status != PKIStatus.GRANTED:
        raise FetchError(f"the TSA refused the request ({_status_text(response)})")
    problems = token_problems(response, head_imprint(head), trust, nonce=nonce)
    if problems:
        raise FetchError("the TSA's token was refused: " + "; ".join(problems))
    return response.tst_info.gen_time  # timezone-aware (UTC), as rfc3161-client gives it


# checking -------------------------------------------------------------------------------------
def token_problems(
    response: TimeStampResponse,
    imprint: bytes,
    trust: Sequence[x509.Certificate] = (),
    *,
    nonce: int | None = None,
) -> list[str]:
    """What is wrong with a token over ``imprint`` (empty: nothing): not granted, no signer
    certificate, a signature that does not verify with it, a certificate that is not a
    time-stamping one, no chain to ``trust`` (when given), another imprint or nonce."""
    if response.status != PKIStatus.GRANTED:
        return [f"the token was not granted ({_status_text(response)})"]
    try:
        info = response.tst_info
        signer = _signer(response)
        problems = [_signature_problem(response.time_stamp_token(), signer, info.gen_time)]
        problems.append(_usage_problem(signer))
        if trust:
            problems.append(_trust_problem(response, signer, trust))
        if info.message_imprint.message != imprint:
            problems.append("the token is over another imprint than SHA-256 of the head")
        if nonce is not None and info.nonce != nonce:
            problems.append("the token's nonce is not the request's")
    except ValueError as exc:
        return [f"the token cannot be read ({shorten(str(exc), 120)})"]
    return [problem for problem in problems if problem]


def _status_text(response: TimeStampResponse) -> str:
    try:
        name = PKIStatus(response.status).name.lower().replace("_", " ")
    except ValueError:
        name = str(response.status)
    texts = "; ".join(response.status_string)
    return f"status {name}: {texts}" if texts else f"status {name}"


def _signer(response: TimeStampResponse) -> x509.Certificate:
    """The certificate the token carries for its only signer (ValueError when none)."""
    infos = list(response.signed_data.signer_infos)
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} signers where one is expected")
    for der in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        if cert.issuer == infos[0].issuer and cert.serial_number == infos[0].serial_number:
            return cert
    raise ValueError("the token carries no certificate of its signer")


def _signature_problem(token: bytes, signer: x509.Certificate, when: datetime) -> str:
    """The CMS signature of the token checked with the signer's public key: the signed
    attributes' messageDigest is the digest of the TSTInfo, the signature is over them."""
    content, attributes, digest_oid, signature = _signed_parts(token)
    algorithm = _DIGESTS.get(digest_oid)
    if algorithm is None:
        return f"unsupported digest algorithm {digest_oid}"
    digest = hashes.Hash(algorithm())
    digest.update(content)
    if _message_digest(attributes) != digest.finalize():
        return "the signed digest is not that of the token's content (token altered)"
    try:
        key = signer.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, attributes, padding.PKCS1v15(), algorithm())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, attributes, ec.ECDSA(algorithm()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, attributes)
        else:
            return f"unsupported signing key ({type(key).__name__})"
    except InvalidSignature:
        return "the signature does not verify with the certificate the token carries"
    except UnsupportedAlgorithm as exc:
        return f"unsupported signature ({exc})"
    if not signer.not_valid_before_utc <= when <= signer.not_valid_after_utc:
        return "the TSA's certificate was not valid at the token's time"
    return ""


def _usage_problem(signer: x509.Certificate) -> str:
    try:
        usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return "the signer's certificate has no extendedKeyUsage (not a TSA certificate)"
    if not usage.critical or ExtendedKeyUsageOID.TIME_STAMPING not in usage.value:
        return "the signer's certificate is not for time-stamping (critical id-kp-timeStamping)"
    return ""


def _trust_problem(
    response: TimeStampResponse, signer: x509.Certificate, trust: Sequence[x509.Certificate]
) -> str:
    """Empty when the signer is a trusted certificate itself or chains to one (checked by
    rfc3161-client at the token's time)."""
    if signer in trust:
        return ""
    verifier = VerifierBuilder(roots=list(trust)).build()
    try:
        verifier.verify(response, response.tst_info.message_imprint.message)
    except (VerificationError, ValueError) as exc:
        found = re.search(r"Verify error: ([^\"]+)", str(exc))
        reason = found.group(1) if found else shorten(str(exc), 120)
        return f"it does not chain to the trusted certificate ({reason})"
    return ""


def check_stamps(db: Database, trust_pem: bytes | None = None) -> tuple[StampCheck, ...]:
    """Check every stored token offline (no network): its signature, its chain to
    ``trust_pem`` (a CA's or the TSA's own certificate, PEM) when given, its imprint against
    the stamped head and its gen_time against the stored one, and that the head is still in
    the observation chain (a rewritten or truncated history contradicts the token)."""
    trust = load_trust(trust_pem) if trust_pem else ()
    checks = []
    for stamp in timestamps.list_stamps(db, status=timestamps.GRANTED):
        try:
            response = decode_timestamp_response(stamp.token or b"")
        except ValueError:
            problems = ["the stored token does not parse (altered?)"]
        else:
            problems = token_problems(response, head_imprint(stamp.head), trust)
            if not problems and response.tst_info.gen_time != stamp.gen_time:
                problems.append("the stored gen_time is not the token's")
        try:
            check_extends(db, stamp.head)
        except IntegrityError as exc:
            problems.append(f"its head is not in the chain: {exc.args[0]}")
        checks.append(
            StampCheck(stamp.id, stamp.run_id, stamp.head, stamp.gen_time, tuple(problems))
        )
    return tuple(checks)


# the evidence pack ----------------------------------------------------------------------------
def pack_files(db: Database, head: ChainHead) -> tuple[dict[str, bytes], tuple[PackStamp, ...]]:
    """For each granted token over a head at or below ``head``: ``timestamps/run-N.tsr`` (the
    TimeStampResp), ``timestamps/run-N.head.txt`` (the stamped bytes) and the TSA certificate
    the token carries as ``timestamps/tsa-K.pem`` (one file per distinct certificate)."""
    files: dict[str, bytes] = {}
    pems: dict[bytes, str] = {}
    stamps = []
    for stamp in timestamps.list_stamps(db, status=timestamps.GRANTED, up_to=head):
        name = f"run-{stamp.run_id}" if stamp.run_id is not None else f"stamp-{stamp.id}"
        if f"timestamps/{name}.tsr" in files:
            name = f"{name}-stamp-{stamp.id}"
        files[f"timestamps/{name}.tsr"] = stamp.token or b""
        files[f"timestamps/{name}.head.txt"] = stamped_bytes(stamp.head)
        pem, pem_name = _carried_pem(stamp.token or b""), None
        if pem is not None:
            pem_name = pems.setdefault(pem, f"timestamps/tsa-{len(pems) + 1}.pem")
            files[pem_name] = pem
        when = to_db_time(stamp.gen_time) if stamp.gen_time else ""
        stamps.append(PackStamp(f"timestamps/{name}", stamp.head, when, stamp.tsa_url, pem_name))
    return files, tuple(stamps)


def _carried_pem(token: bytes) -> bytes | None:
    try:
        cert = _signer(decode_timestamp_response(token))
    except ValueError:
        return None
    return cert.public_bytes(serialization.Encoding.PEM)


# DER, read only as far as the signature check needs --------------------------------------------
def _der(data: bytes) -> tuple[int, bytes, bytes, bytes]:
    """(tag, content, the whole element, what follows) of the first DER element."""
    if len(data) < 2:
        raise ValueError("truncated DER")
    tag, size, start = data[0], data[1], 2
    if size & 0x80:
        count = size & 0x7F
        if not 0 < count <= 4:
            raise ValueError("unsupported DER length")
        size, start = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    if len(data) < start + size:
        raise ValueError("truncated DER")
    return tag, data[start : start + size], data[: start + size], data[start + size :]


def _children(content: bytes, least: int = 1) -> list[tuple[int, bytes, bytes]]:
    """(tag, content, whole) of each element of a constructed value; at least ``least``."""
    found = []
    while content:
        tag, body, whole, content = _der(content)
        found.append((tag, body, whole))
    if len(found) < least:
        raise ValueError("a DER structure has too few elements")
    return found


def _oid(content: bytes) -> str:
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise ValueError("empty object identifier")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, arcs[0] - 40 * first, *arcs[1:]])


def _signed_parts(token: bytes) -> tuple[bytes, bytes, str, bytes]:
    """(the TSTInfo, the signed attributes as the DER SET that was signed, the digest
    algorithm's OID, the signature) of a TimeStampToken (a CMS ContentInfo)."""
    content_type, wrapped = _children(_der(token)[1], 2)[:2]
    if _oid(content_type[1]) != _SIGNED_DATA:
        raise ValueError("the token is not CMS SignedData")
    signed_data = _children(_children(wrapped[1])[0][1], 4)
    encapsulated = _children(signed_data[2][1], 2)
    if _oid(encapsulated[0][1]) != _TST_INFO:
        raise ValueError("the token's content is not a TSTInfo")
    infos = _children(signed_data[-1][1])
    if len(infos) != 1:
        raise ValueError(f"{len(infos)} signers where one is expected")
    info = _children(infos[0][1], 5)
    attributes = [whole for tag, _, whole in info if tag == 0xA0]
    if not attributes or info[-1][0] != 0x04:
        raise ValueError("the signer has no signed attributes")
    content = _children(encapsulated[1][1])[0][1]
    digest_oid = _oid(_children(info[2][1])[0][1])
    return content, b"\x31" + attributes[0][1:], digest_oid, info[-1][1]


def _message_digest(attributes: bytes) -> bytes:
    for _, attribute, _ in _children(_der(attributes)[1]):
        kind, values = _children(attribute, 2)[:2]
        if _oid(kind[1]) == _MESSAGE_DIGEST:
            return _children(values[1])[0][1]
    raise ValueError("the signed attributes have no messageDigest")
