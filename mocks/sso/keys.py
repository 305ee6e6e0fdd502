"""Signing keys and the tokens built by hand: unsigned, HS256 with whatever key, tampered after signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey


def _new_keys(generation: int) -> tuple[RSAKey, ECKey]:
    rsa = RSAKey.generate_key(2048, parameters={"kid": f"rsa-{generation}", "use": "sig", "alg": "RS256"})
    ec = ECKey.generate_key("P-256", parameters={"kid": f"ec-{generation}", "use": "sig", "alg": "ES256"})
    return rsa, ec


def _unsigned(claims: dict[str, Any]) -> str:
    """`alg: none`: joserfc builds it when told to allow the algorithm (it warns, rightly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode({"alg": "none"}, claims, None, algorithms=["none"])  # type: ignore[arg-type]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str | None) -> str:
    """An HS256 token built by hand: joserfc rightly refuses an asymmetric public key as an HMAC secret, and the
    RS-to-HS confusion needs exactly that."""
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _public_jwk(key: RSAKey | ECKey, *, kid: bool = True) -> dict[str, Any]:
    data = dict(key.as_dict(private=False))
    if not kid:
        data.pop("kid", None)
    return data


def _tampered(token: str, claims: dict[str, Any]) -> str:
    """A signed token whose payload was swapped afterwards: the signature no longer matches."""
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"

