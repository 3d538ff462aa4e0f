"""``--dask tls://``: a cluster whose traffic (ID card images) is encrypted and whose
members prove who they are, as docs/cluster.md advises off a private network.

A real scheduler and worker on 127.0.0.1 with certificates made here; the CLI as a child
process, configured the way a user configures Dask (environment variables).
"""

from __future__ import annotations

import csv
import datetime
import ipaddress
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dask_cluster import LocalCluster, dask_available, local_cluster
from tests.skips import needs_local

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "cards"
CARDS = ("zhangsan_front.jpg", "zhangsan_back.png")

pytestmark = [
    pytest.mark.skipif(not dask_available(), reason="the 'dask' extra is not installed"),
    needs_local,
    pytest.mark.slow,
]


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and one certificate it signs for 127.0.0.1 (used by every member)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "batch-ocr test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(mode=0o700)
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "member.pem", folder / "member.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def _tls_env(ca: Path, cert: Path, key: Path) -> dict[str, str]:
    """Dask's TLS settings for every role, encryption required (Dask's own names)."""
    env = {"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
           "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(ca)}
    for role in ("SCHEDULER", "WORKER", "CLIENT"):
        env[f"DASK_DISTRIBUTED__COMM__TLS__{role}__CERT"] = str(cert)
        env[f"DASK_DISTRIBUTED__COMM__TLS__{role}__KEY"] = str(key)
    return env


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    folder = tmp_path_factory.mktemp("tls")
    env = _tls_env(*_certificates(folder / "certs"))
    with local_cluster(folder / "cluster", workers=1, tls_env=env) as cluster:
        yield cluster


def _run(tmp_path: Path, address: str, env_extra: dict[str, str]
         ) -> subprocess.CompletedProcess[str]:
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in CARDS:
        (scans / name).write_bytes((SAMPLES / name).read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCH_OCR_", "DASK_"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "no-config"), **env_extra)
    return subprocess.run([sys.executable, "-m", "batch_ocr", str(scans), "-o",
                           str(tmp_path / "out.csv"), "--dask", address],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)


def test_cards_are_read_over_tls(tmp_path: Path, tls_cluster: LocalCluster) -> None:
    assert tls_cluster.address.startswith("tls://127.0.0.1:")
    done = _run(tmp_path, tls_cluster.address, tls_cluster.env)
    assert done.returncode == 0, done.stderr + tls_cluster.logs()
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: row["file"])
    assert [(r["file"], r["status"], r["side"]) for r in rows] == [
        ("zhangsan_back.png", "ok", "back"), ("zhangsan_front.jpg", "ok", "front")]
    assert rows[1]["name"] == "张三"


def test_a_client_without_the_cluster_certificates_is_turned_away(
        tmp_path: Path, tls_cluster: LocalCluster) -> None:
    """No certificate, no cards: the run stops before any work, with one line."""
    done = _run(tmp_path, tls_cluster.address, {})
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    fatal = [line for line in done.stderr.splitlines() if line.startswith("batch-ocr: fatal:")]
    assert len(fatal) == 1 and tls_cluster.address in fatal[0], done.stderr
    assert not (tmp_path / "out.csv").exists() or len(
        (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()) <= 1


def test_a_client_with_another_authoritys_certificate_is_turned_away(
        tmp_path: Path, tls_cluster: LocalCluster) -> None:
    """Certificates that the cluster's authority did not sign: refused, one line."""
    stranger = _tls_env(*_certificates(tmp_path / "stranger"))
    done = _run(tmp_path, tls_cluster.address, stranger)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    fatal = [line for line in done.stderr.splitlines() if line.startswith("batch-ocr: fatal:")]
    assert len(fatal) == 1 and tls_cluster.address in fatal[0], done.stderr


@pytest.mark.parametrize(("address", "in_clear"), [
    ("tcp://10.0.0.5:8786", True),
    ("10.0.0.5:8786", True),
    ("tcp://scheduler.example:8786", True),
    ("tcp://[2001:db8::1]:8786", True),
    ("tls://10.0.0.5:8786", False),
    ("tcp://127.0.0.1:8786", False),
    ("tcp://localhost:8786", False),
    ("tcp://[::1]:8786", False),
    ("inproc://10.0.0.5/1/1", False),
])
def test_which_addresses_send_card_images_in_clear(address: str, in_clear: bool) -> None:
    """A run on such a cluster warns once (docs/cluster.md, "Encrypted clusters")."""
    from batch_ocr.engines.local.dask_cluster import crosses_network_in_clear

    assert crosses_network_in_clear(address) is in_clear
