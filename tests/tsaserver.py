"""A loopback RFC 3161 time-stamping authority for the tests (a helper module, not a test file).

``TsaAuthority`` generates, with ``cryptography``, a self-signed CA and a TSA certificate
(EC P-256, critical extendedKeyUsage id-kp-timeStamping) and signs ``TimeStampResp`` answers;
``TsaServer`` serves it on 127.0.0.1 (POST ``application/timestamp-query``).

The DER is written by hand (the small encoder below): ``cryptography``'s PKCS7 builder signs
only ``id-data`` content and takes no custom signed attributes, and RFC 3161 needs
eContentType id-ct-TSTInfo with a signingCertificateV2 attribute; neither ``asn1crypto`` nor
``pyasn1`` is installed. The request is read with an equally small DER reader, so the
messageImprint and nonce are echoed byte for byte.

``TsaServer.mode`` makes it misbehave: ``unavailable`` (HTTP 503), ``garbage`` (a body that is
no DER), ``reject`` (status rejection, no token), ``other_imprint`` (a valid token over another
imprint), ``wrong_nonce``, ``bad_signature`` (a signature over other bytes), ``slow`` (answers
after ``slow_seconds``).
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.loopback import LoopbackServer, QuietHandler

QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"
MODES = (
    "ok",
    "unavailable",
    "garbage",
    "reject",
    "other_imprint",
    "wrong_nonce",
    "bad_signature",
    "slow",
)

OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
POLICY = "1.3.6.1.4.1.99999.1"  # a private-arc policy id for the test TSA


# DER, the little that RFC 3161 needs -----------------------------------------------------------
def tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + body


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    return tlv(0x31, b"".join(sorted(parts)))  # DER: a SET OF sorted by encoding


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk, rest = [arc & 0x7F], arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def explicit(number: int, body: bytes) -> bytes:
    return tlv(0xA0 + number, body)


def gentime(moment: datetime) -> bytes:
    return tlv(0x18, moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode())


def read_tlv(data: bytes) -> tuple[int, bytes, bytes, bytes]:
    """(tag, content, the whole element, what follows it)."""
    tag, size, start = data[0], data[1], 2
    if size & 0x80:
        count = size & 0x7F
        size, start = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    return tag, data[start : start + size], data[: start + size], data[start + size :]


def elements(content: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    while content:
        tag, body, whole, content = read_tlv(content)
        yield tag, body, whole


# the authority --------------------------------------------------------------------------------
def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class TsaAuthority:
    """A CA and a TSA certificate signed by it, generated at construction (a few ms)."""

    def __init__(self, name: str = "amendwatch test TSA") -> None:
        now = datetime.now(UTC)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name(f"{name} CA")
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(ca_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.serial = 0

    @property
    def ca_pem(self) -> bytes:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def tsa_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def answer(self, request: bytes, mode: str = "ok", at: datetime | None = None) -> bytes:
        """The DER TimeStampResp to ``request`` (a DER TimeStampReq), misbehaving per ``mode``."""
        if mode == "reject":
            status = seq(integer(2), seq(tlv(0x0C, b"request refused by policy")))
            return seq(status)
        imprint, nonce, cert_req = parse_request(request)
        if mode == "other_imprint":
            imprint = seq(seq(oid(OID_SHA256)), octets(hashlib.sha256(b"another head").digest()))
        if mode == "wrong_nonce":
            nonce = integer(int.from_bytes(secrets.token_bytes(8), "big"))
        self.serial += 1
        tst_info = seq(
            integer(1),
            oid(POLICY),
            imprint,
            integer(self.serial),
            gentime(at or datetime.now(UTC)),
            seq(integer(1)),  # accuracy: 1 second
            nonce,
        )
        token = self._token(tst_info, cert_req, bad_signature=mode == "bad_signature")
        return seq(seq(integer(0)), token)

    def _token(self, tst_info: bytes, with_cert: bool, *, bad_signature: bool) -> bytes:
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        ess = seq(seq(seq(octets(hashlib.sha256(cert_der).digest()))))  # SigningCertificateV2
        attributes = [
            seq(oid(OID_CONTENT_TYPE), set_of(oid(OID_TST_INFO))),
            seq(oid(OID_MESSAGE_DIGEST), set_of(octets(hashlib.sha256(tst_info).digest()))),
            seq(oid(OID_SIGNING_CERT_V2), set_of(ess)),
        ]
        signed = set_of(*attributes)
        signature = self.key.sign(
            signed + b"tampered" if bad_signature else signed, ec.ECDSA(hashes.SHA256())
        )
        signer_info = seq(
            integer(1),
            seq(self.cert.issuer.public_bytes(), integer(self.cert.serial_number)),
            seq(oid(OID_SHA256)),
            b"\xa0" + signed[1:],  # signedAttrs [0] IMPLICIT: the SET with its tag replaced
            seq(oid(OID_ECDSA_SHA256)),
            octets(signature),
        )
        signed_data = seq(
            integer(3),
            set_of(seq(oid(OID_SHA256))),
            seq(oid(OID_TST_INFO), explicit(0, octets(tst_info))),
            tlv(0xA0, cert_der) if with_cert else b"",  # certificates [0] IMPLICIT
            set_of(signer_info),
        )
        return seq(oid(OID_SIGNED_DATA), explicit(0, signed_data))


def parse_request(request: bytes) -> tuple[bytes, bytes, bool]:
    """(messageImprint DER, nonce DER (empty when absent), certReq) of a TimeStampReq."""
    tag, content, _, _ = read_tlv(request)
    if tag != 0x30:
        raise ValueError("not a TimeStampReq")
    imprint, nonce, cert_req = b"", b"", False
    for index, (item_tag, body, whole) in enumerate(elements(content)):
        if index == 1:
            imprint = whole
        elif item_tag == 0x02 and index > 1:
            nonce = whole
        elif item_tag == 0x01:
            cert_req = body != b"\x00"
    if not imprint:
        raise ValueError("no messageImprint")
    return imprint, nonce, cert_req


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# the server -----------------------------------------------------------------------------------
class _Handler(QuietHandler):
    server: _TsaHTTPServer  # type: ignore[assignment]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size)
        tsa = self.server.tsa
        tsa.requests += 1
        if tsa.mode == "unavailable":
            self.answer(503, b"busy", "text/plain")
            return
        if tsa.mode == "garbage":
            self.answer(200, b"<html>not a time-stamp</html>", REPLY)
            return
        if self.headers.get("Content-Type") != QUERY:
            self.answer(400, b"expected application/timestamp-query", "text/plain")
            return
        if tsa.mode == "slow":
            time.sleep(tsa.slow_seconds)
        self.answer(200, tsa.authority.answer(body, tsa.mode), REPLY)


class _TsaHTTPServer(ThreadingHTTPServer):
    tsa: TsaServer

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that gave up waiting (mode "slow") is expected
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class TsaServer(LoopbackServer):
    """The authority served on a free loopback port while a ``with`` block runs; ``url`` is
    the address to POST to."""

    def __init__(self, authority: TsaAuthority | None = None, mode: str = "ok") -> None:
        super().__init__(_Handler, _TsaHTTPServer)
        self.server.tsa = self
        self.authority = authority or TsaAuthority()
        self.mode = mode
        self.slow_seconds = 1.0
        self.requests = 0
        self.url = f"{self.base_url}/tsr"
