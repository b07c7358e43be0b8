"""flexhub.signing: known-answer vectors and every way a signature or token can be wrong.

Known answers were computed outside Python, once, and are hard-coded:
- HMAC: ``printf '%s' BODY | openssl dgst -sha256 -hmac 'Secret123%' -binary | base64``;
- SO signature: ``openssl pkeyutl -sign -rawin`` with the RFC 8032 test-1 Ed25519 key, then
  base64url without padding.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from flexhub import signing
from flexhub.signing import SignatureError

# --- HMAC payload signature -------------------------------------------------------------------

SECRET = "Secret123%"
BODY = (
    b'{"notificationId":"b6a6bd4a-6d37-4c74-95d1-4eb7f27a9bdd",'
    b'"notificationType":"UserEligibilityUpdated"}'
)
BODY_SIGNATURE = "mrn60/7R1zT4/XNUq7JWZ3ND0+7Wg01H+2ZI5MC/mhE="  # openssl, see above
EMPTY_SIGNATURE = "sIWdFgbhTy1zwYYsv9UIMbn8bQcqLabgPvU9kwxLyY8="  # same key, empty body
UTF8_SECRET, UTF8_BODY = "nøkkel", "café €\n".encode()
UTF8_SIGNATURE = "+qFJDPvteHK/Qm6h2PlH4Wl7J/unZT62K4uYXyvLkUg="
# RFC 4231 test case 2 (published as hex)
RFC4231_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_hmac_known_answers():
    assert signing.payload_signature(SECRET, BODY) == BODY_SIGNATURE
    assert signing.payload_signature(SECRET, b"") == EMPTY_SIGNATURE
    assert signing.payload_signature(UTF8_SECRET, UTF8_BODY) == UTF8_SIGNATURE
    rfc = base64.b64encode(bytes.fromhex(RFC4231_HEX)).decode()
    assert signing.payload_signature("Jefe", b"what do ya want for nothing?") == rfc


def test_hmac_agrees_with_the_standard_library():
    for secret, body in [(SECRET, BODY), ("k", b"\x00\xff" * 1000), ("ключ", "тело".encode())]:
        mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
        assert base64.b64decode(signing.payload_signature(secret, body)) == mac


def test_hmac_verifies_the_known_answer():
    signing.verify_payload_signature(SECRET, BODY, BODY_SIGNATURE)
    signing.verify_payload_signature(SECRET, BODY, f"  {BODY_SIGNATURE}\t")  # header whitespace
    signing.verify_payload_signature(UTF8_SECRET, UTF8_BODY, UTF8_SIGNATURE)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_hmac_missing_header(header):
    with pytest.raises(SignatureError, match="missing X-Payload-Signature"):
        signing.verify_payload_signature(SECRET, BODY, header)


@pytest.mark.parametrize(
    "header",
    [
        "not base64!",
        BODY_SIGNATURE.rstrip("="),  # padding removed
        BODY_SIGNATURE.replace("+", "-").replace("/", "_"),  # the URL-safe alphabet
        BODY_SIGNATURE[:20] + " " + BODY_SIGNATURE[20:],
        "sha256=" + BODY_SIGNATURE,
    ],
)
def test_hmac_bad_base64(header):
    with pytest.raises(SignatureError, match="not valid base64"):
        signing.verify_payload_signature(SECRET, BODY, header)


def test_hmac_wrong_secret_changed_body_and_other_digests():
    cases = [
        ("Secret123", BODY, BODY_SIGNATURE),
        ("secret123%", BODY, BODY_SIGNATURE),
        (SECRET, BODY + b"\n", BODY_SIGNATURE),
        (SECRET, BODY.replace(b"UserEligibility", b"PriceCurve"), BODY_SIGNATURE),
        (SECRET, b"", BODY_SIGNATURE),
        # a SHA-1 HMAC and a truncated one are well-formed base64 but wrong
        (SECRET, BODY, base64.b64encode(hmac.new(SECRET.encode(), BODY, "sha1").digest())),
        (SECRET, BODY, base64.b64encode(base64.b64decode(BODY_SIGNATURE)[:16])),
    ]
    for secret, body, header in cases:
        header = header.decode() if isinstance(header, bytes) else header
        with pytest.raises(SignatureError, match="does not match"):
            signing.verify_payload_signature(secret, body, header)


@pytest.mark.parametrize("sep", [" ", ",", ", ", "\n"])
def test_hmac_several_signatures_are_refused_even_if_one_matches(sep):
    other = signing.payload_signature("another secret", BODY)
    for header in (BODY_SIGNATURE + sep + other, other + sep + BODY_SIGNATURE):
        with pytest.raises(SignatureError):
            signing.verify_payload_signature(SECRET, BODY, header)
    with pytest.raises(SignatureError):  # concatenated without a separator
        signing.verify_payload_signature(SECRET, BODY, BODY_SIGNATURE + BODY_SIGNATURE)


# --- JWS --------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra) -> dict:
    now = int(time.time())
    return {"iss": "https://hub.example", "iat": now, "exp": now + 300, "jti": "e-1", **extra}


@pytest.fixture(scope="module")
def key() -> ed25519.Ed25519PrivateKey:
    return signing.generate_private_key()


@pytest.fixture(scope="module")
def keys(key) -> dict:
    return {"k1": key.public_key()}


def test_jws_roundtrip_for_every_supported_key_type():
    for private, alg in [
        (signing.generate_private_key(), "EdDSA"),
        (ec.generate_private_key(ec.SECP256R1()), "ES256"),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
    ]:
        token = signing.jws_sign(_claims(data={"a": "1.5"}), private, "kid-x")
        header = jwt.get_unverified_header(token)
        assert header == {"alg": alg, "kid": "kid-x", "typ": "JWT"}
        public = signing.load_public_key(signing.public_key_pem(private))
        claims = signing.jws_verify(token, {"kid-x": public}, issuer="https://hub.example")
        assert claims["data"] == {"a": "1.5"}
        # an outside verifier needs nothing but the PEM
        pem = signing.public_key_pem(private)
        assert jwt.decode(token, pem, algorithms=[alg])["jti"] == "e-1"
        jwk = signing.public_jwk(private, "kid-x")
        assert jwk["kid"] == "kid-x" and jwk["alg"] == alg and jwk["use"] == "sig"
        assert "d" not in jwk and "p" not in jwk


def test_jws_refuses_alg_none(key, keys):
    token = signing.jws_sign(_claims(), key, "k1")
    head, payload, _ = token.split(".")
    for alg in ("none", "None", "NONE"):
        forged = _b64(json.dumps({"alg": alg, "kid": "k1", "typ": "JWT"}).encode())
        for tail in ("", _b64(b"sig")):
            with pytest.raises(SignatureError, match="not allowed"):
                signing.jws_verify(f"{forged}.{payload}.{tail}", keys)


def test_jws_refuses_hs256_signed_with_the_public_key_pem(key, keys):
    pem = signing.public_key_pem(key)
    head = _b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    for secret in (pem.encode(), pem.strip().encode()):
        mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        with pytest.raises(SignatureError, match="not allowed"):
            signing.jws_verify(f"{head}.{payload}.{_b64(mac)}", keys)


def test_jws_refuses_an_algorithm_other_than_the_keys(keys):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    token = signing.jws_sign(_claims(), ec_key, "k1")  # ES256 under the Ed25519 key's kid
    with pytest.raises(SignatureError, match="not allowed"):
        signing.jws_verify(token, keys)


def test_jws_refuses_unknown_or_missing_kid(key, keys):
    with pytest.raises(SignatureError, match="unknown key id"):
        signing.jws_verify(signing.jws_sign(_claims(), key, "k2"), keys)
    no_kid = jwt.encode(_claims(), key, algorithm="EdDSA")
    with pytest.raises(SignatureError, match="unknown key id"):
        signing.jws_verify(no_kid, keys)
    head = _b64(json.dumps({"alg": "EdDSA", "kid": 1}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    sig = _b64(key.sign(f"{head}.{payload}".encode()))
    with pytest.raises(SignatureError):
        signing.jws_verify(f"{head}.{payload}.{sig}", keys)


def test_jws_refuses_expired_and_missing_times(key, keys):
    now = int(time.time())
    expired = signing.jws_sign(_claims(iat=now - 600, exp=now - 1), key, "k1")
    with pytest.raises(SignatureError, match="expired"):
        signing.jws_verify(expired, keys)
    assert signing.jws_verify(expired, keys, leeway=60)["jti"] == "e-1"
    no_exp = {k: v for k, v in _claims().items() if k != "exp"}
    with pytest.raises(SignatureError, match="exp"):
        signing.jws_verify(signing.jws_sign(no_exp, key, "k1"), keys)
    future = signing.jws_sign(_claims(iat=now + 3600, exp=now + 7200), key, "k1")
    with pytest.raises(SignatureError):
        signing.jws_verify(future, keys)


def test_jws_refuses_a_changed_payload(key, keys):
    token = signing.jws_sign(_claims(data={"capacity": "1.0"}), key, "k1")
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["data"]["capacity"] = "9.0"
    tampered = _b64(json.dumps(claims, separators=(",", ":")).encode())
    with pytest.raises(SignatureError, match="does not verify"):
        signing.jws_verify(f"{head}.{tampered}.{sig}", keys)
    # the header is signed too
    other_head = _b64(json.dumps({"alg": "EdDSA", "kid": "k1", "typ": "at+jwt"}).encode())
    with pytest.raises(SignatureError, match="does not verify"):
        signing.jws_verify(f"{other_head}.{payload}.{sig}", keys)


def test_jws_refuses_the_wrong_key(key):
    token = signing.jws_sign(_claims(), signing.generate_private_key(), "k1")
    with pytest.raises(SignatureError, match="does not verify"):
        signing.jws_verify(token, {"k1": key.public_key()})


def test_jws_issuer_audience_and_garbage(key, keys):
    token = signing.jws_sign(_claims(aud="flexhub"), key, "k1")
    assert signing.jws_verify(token, keys, audience="flexhub")["aud"] == "flexhub"
    with pytest.raises(SignatureError):
        signing.jws_verify(token, keys, audience="someone-else")
    with pytest.raises(SignatureError):
        signing.jws_verify(token, keys, issuer="https://evil.example")
    assert signing.jws_verify(token.encode(), keys)["jti"] == "e-1"  # bytes, as received
    for garbage in ("", "a.b", "not-a-token", "a.b.c", "..."):
        with pytest.raises(SignatureError):
            signing.jws_verify(garbage, keys)


def test_key_loading_refuses_what_it_cannot_use():
    with pytest.raises(SignatureError):
        signing.load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(SignatureError, match="P-256"):
        signing.algorithm_for(p384)
    key = signing.generate_private_key()
    again = signing.load_private_key(signing.private_key_pem(key))
    assert signing.public_key_pem(again) == signing.public_key_pem(key)


# --- the system operator's signature ------------------------------------------------------------

RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
INSTRUCTION = {
    "so_reference": "Trøndelag-0001",
    "obligation_id": "ob-7",
    "start": "2026-06-02T16:00:00Z",
    "end": "2026-06-02T17:00:00Z",
    "capacity": "1.500",
    "need_direction": "deficit",
    "instruction_type": "dispatch",
}
CANONICAL = (
    '{"capacity":"1.500","end":"2026-06-02T17:00:00Z","instruction_type":"dispatch",'
    '"need_direction":"deficit","obligation_id":"ob-7","so_reference":"Trøndelag-0001",'
    '"start":"2026-06-02T16:00:00Z"}'
).encode()
SO_SIGNATURE = (  # openssl pkeyutl -sign -rawin over CANONICAL, base64url without padding
    "6-jNxhgxJtxFKxTZVsZIQ0UK4BaMJPpdEJNf43Kr7aJJDMDhpBClJmq9R4k_wdITZ5I5BldVbSdbiLN_iBPfBw"
)


@pytest.fixture(scope="module")
def so_key() -> ed25519.Ed25519PrivateKey:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_SEED))
    assert key.public_key().public_bytes_raw().hex() == RFC8032_PUBLIC
    return key


def test_so_signature_known_answer(so_key):
    assert signing.so_signed_document(INSTRUCTION) == CANONICAL
    assert signing.so_sign(INSTRUCTION, so_key) == SO_SIGNATURE
    # the whole instruction as delivered: unsigned fields do not matter
    delivered = {**INSTRUCTION, "id": "di-1", "status": "accepted", "signature": SO_SIGNATURE}
    signing.so_verify(delivered, SO_SIGNATURE, "Ed25519", [so_key.public_key()])


def test_so_roundtrip_with_a_fresh_key():
    key = signing.generate_private_key()
    sig = signing.so_sign(INSTRUCTION, key)
    assert "=" not in sig and len(sig) == 86
    signing.so_verify(INSTRUCTION, sig, "Ed25519", [key.public_key()])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", "1.5"),  # same number, other string: the SO's exact string is signed
        ("capacity", 1.5),
        ("start", "2026-06-02T16:00:00+00:00"),
        ("need_direction", "excess"),
        ("so_reference", "Trondelag-0001"),
        ("instruction_type", "stop"),
        ("obligation_id", "ob-8"),
    ],
)
def test_so_changed_field_is_refused(so_key, field, value):
    with pytest.raises(SignatureError, match="does not verify"):
        signing.so_verify(
            {**INSTRUCTION, field: value}, SO_SIGNATURE, "Ed25519", [so_key.public_key()]
        )


def test_so_missing_signature_or_field(so_key):
    for missing in (None, ""):
        with pytest.raises(SignatureError, match="no SO signature"):
            signing.so_verify(INSTRUCTION, missing, "Ed25519", [so_key.public_key()])
    partial = {k: v for k, v in INSTRUCTION.items() if k != "end"}
    with pytest.raises(SignatureError, match="lacks signed fields: end"):
        signing.so_verify(partial, SO_SIGNATURE, "Ed25519", [so_key.public_key()])


@pytest.mark.parametrize("algorithm", [None, "", "ed25519", "EdDSA", "ES256", "HS256"])
def test_so_wrong_algorithm(so_key, algorithm):
    with pytest.raises(SignatureError, match="unsupported SO signature algorithm"):
        signing.so_verify(INSTRUCTION, SO_SIGNATURE, algorithm, [so_key.public_key()])


@pytest.mark.parametrize(
    "bad",
    [
        "not base64url!",
        SO_SIGNATURE[:40] + "!!!!" + SO_SIGNATURE[40:],  # Python's decoder would skip these
        SO_SIGNATURE[:40] + " " + SO_SIGNATURE[40:],
        SO_SIGNATURE.replace("-", "+").replace("_", "/"),  # standard alphabet
        SO_SIGNATURE + "AAA",  # 89 characters: a length no base64 text has
    ],
)
def test_so_bad_base64url(so_key, bad):
    with pytest.raises(SignatureError, match="base64url"):
        signing.so_verify(INSTRUCTION, bad, "Ed25519", [so_key.public_key()])


def test_so_non_canonical_spelling_is_refused(so_key):
    # 64 bytes take 86 characters; the last one carries 4 spare bits that decoders ignore
    last = SO_SIGNATURE[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = SO_SIGNATURE[:-1] + alphabet[alphabet.index(last) + 1]
    assert base64.urlsafe_b64decode(twin + "==") == base64.urlsafe_b64decode(SO_SIGNATURE + "==")
    with pytest.raises(SignatureError, match="canonical"):
        signing.so_verify(INSTRUCTION, twin, "Ed25519", [so_key.public_key()])


def test_so_padding_is_refused(so_key):
    with pytest.raises(SignatureError, match="without padding"):
        signing.so_verify(INSTRUCTION, SO_SIGNATURE + "==", "Ed25519", [so_key.public_key()])
    with pytest.raises(SignatureError, match="without padding"):
        signing.so_verify(INSTRUCTION, 12345, "Ed25519", [so_key.public_key()])


def test_so_key_rotation_any_configured_key_may_match(so_key):
    old, new = so_key.public_key(), signing.generate_private_key().public_key()
    signing.so_verify(INSTRUCTION, SO_SIGNATURE, "Ed25519", [new, old])
    signing.so_verify(INSTRUCTION, SO_SIGNATURE, "Ed25519", [old, new])
    with pytest.raises(SignatureError, match="does not verify"):
        signing.so_verify(INSTRUCTION, SO_SIGNATURE, "Ed25519", [new])
    with pytest.raises(SignatureError, match="does not verify"):
        signing.so_verify(INSTRUCTION, SO_SIGNATURE, "Ed25519", [])
    short = base64.urlsafe_b64encode(b"\x01" * 32).rstrip(b"=").decode()
    with pytest.raises(SignatureError, match="does not verify"):
        signing.so_verify(INSTRUCTION, short, "Ed25519", [old])
