"""TLS for the host: mandatory. Without a configured certificate, a self-signed one is made on
first run (EC P-256, one year, the configured host names and addresses as SANs) and reused."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"


@dataclass(frozen=True, slots=True)
class Certificate:
    cert_file: Path
    key_file: Path
    expires: datetime
    self_signed: bool


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def create_self_signed(directory: Path, hostnames: list[str], *, days: int = 365) -> Certificate:
    """Write a new self-signed certificate and key (0600) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else "localhost"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ledgerlink FinancialHost"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(_san(hostnames or ["localhost"]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Certificate(cert_path, key_path, cert.not_valid_after_utc, self_signed=True)


def certificate_expiry(cert_file: Path) -> datetime:
    return x509.load_pem_x509_certificate(cert_file.read_bytes()).not_valid_after_utc


def ensure_certificate(
    *,
    data_dir: Path,
    cert_file: Path | None,
    key_file: Path | None,
    hostnames: list[str],
) -> Certificate:
    """The configured certificate, or the generated one (made now if there is none yet)."""
    if cert_file or key_file:
        if not (cert_file and key_file and cert_file.exists() and key_file.exists()):
            raise FileNotFoundError(
                "tls_cert_file and tls_key_file must both name existing PEM files."
            )
        return Certificate(cert_file, key_file, certificate_expiry(cert_file), self_signed=False)
    own_cert, own_key = data_dir / CERT_FILE, data_dir / KEY_FILE
    if own_cert.exists() and own_key.exists():
        return Certificate(own_cert, own_key, certificate_expiry(own_cert), self_signed=True)
    return create_self_signed(data_dir, hostnames)
