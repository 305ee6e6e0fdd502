"""manifest.json: the SHA-256 of every output file, signed with Ed25519 when a key is given, and its verification.

The signature covers the exact bytes of manifest.json and is kept beside it (manifest.json.sig, base64), so nothing
needs canonicalising. Keys are standard files: PEM PKCS#8 private keys, PEM SubjectPublicKeyInfo public keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.core.errors import P111Error

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.json.sig"
MANIFEST_FORMAT = "p111-manifest/1"
PRIVATE_KEY_FILE = "p111-signing.key"
PUBLIC_KEY_FILE = "p111-signing.pub"


class KeyFileError(P111Error):
    """A key file that cannot be read or is not an Ed25519 key of the expected kind."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)  # mkstemp makes files private; a report is meant to be read by others
    os.replace(temporary, path)


# ---- keys ---------------------------------------------------------------------------------------------------------


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a readable PEM PKCS#8 private key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a readable PEM public key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


def _raw_public(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def generate_keys(directory: Path) -> tuple[Path, Path]:
    """A new key pair in `directory`: the private key readable by its owner only."""
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = directory / PRIVATE_KEY_FILE
    public = directory / PUBLIC_KEY_FILE
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


# ---- writing ------------------------------------------------------------------------------------------------------


def build_manifest(directory: Path, files: list[str], report: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "harness": report["harness"],
        "catalog": report["catalog"],
        "target_digest": report["target"]["digest"],
        "algorithm": "sha256",
        "files": {
            name: {"sha256": sha256_file(directory / name), "bytes": (directory / name).stat().st_size}
            for name in sorted(files)
        },
    }


def write_manifest(
    directory: Path, files: list[str], report: dict[str, Any], sign_key: Path | None = None
) -> Path:
    """manifest.json over `files` (names inside `directory`), then its signature when a key is given."""
    key = load_private_key(sign_key) if sign_key else None
    manifest = build_manifest(directory, files, report)
    if key is not None:
        manifest["signature"] = {
            "algorithm": "Ed25519",
            "file": SIGNATURE_FILE,
            "public_key": _raw_public(key.public_key()),
        }
    data = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    signature_path = directory / SIGNATURE_FILE
    if key is not None:
        atomic_write_bytes(signature_path, base64.b64encode(key.sign(data)) + b"\n")
    elif signature_path.exists():
        signature_path.unlink()  # a stale signature from an earlier run in the same folder would mislead
    path = directory / MANIFEST_FILE
    atomic_write_bytes(path, data)
    return path


# ---- verifying ----------------------------------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    problem: str | None = None  # the first problem found, naming the file
    checked: list[str] = field(default_factory=list)
    signed: bool = False
    key_pinned: bool = False  # the signature was checked against a key the verifier supplied
    unlisted: list[str] = field(default_factory=list)  # files in the folder the manifest does not cover


def verify(directory: Path, public_key: Path | None = None) -> Verification:
    manifest_path = directory / MANIFEST_FILE
    try:
        data = manifest_path.read_bytes()
        manifest = json.loads(data)
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Verification(False, f"{MANIFEST_FILE}: unreadable or not a p111 manifest ({type(exc).__name__})")
    result = Verification(True)
    # The signature first: a tampered manifest could otherwise list the tampered hashes.
    signature_info = manifest.get("signature")
    pinned = load_public_key(public_key) if public_key else None
    if signature_info or pinned is not None:
        try:
            signature = base64.b64decode((directory / SIGNATURE_FILE).read_bytes().strip(), validate=True)
        except (OSError, ValueError):
            return Verification(False, f"{SIGNATURE_FILE}: missing or unreadable signature")
        if pinned is not None:
            key = pinned
            if signature_info and signature_info.get("public_key") != _raw_public(pinned):
                return Verification(False, f"{MANIFEST_FILE}: signed with another key than {public_key}")
        else:
            try:
                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signature_info["public_key"]))
            except (ValueError, KeyError, TypeError):
                return Verification(False, f"{MANIFEST_FILE}: the signature's public key is unreadable")
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return Verification(False, f"{MANIFEST_FILE}: the signature does not match (manifest or signature changed)")
        result.signed, result.key_pinned = True, pinned is not None
    for name, expected in files.items():
        path = directory / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            return Verification(False, f"{name}: a path outside the report folder")
        if not path.is_file():
            return Verification(False, f"{name}: missing")
        if sha256_file(path) != expected.get("sha256"):
            return Verification(False, f"{name}: content changed (SHA-256 differs)")
        result.checked.append(name)
    covered = {*files, MANIFEST_FILE, SIGNATURE_FILE}
    result.unlisted = sorted(
        p.name for p in directory.iterdir() if p.is_file() and p.name not in covered and not p.name.startswith(".")
    )
    return result
