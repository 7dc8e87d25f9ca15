"""Shared fixtures. Real photos come from ../shared/media (never copied here); tests that need them skip
with a clear reason where that folder is absent. skimage's astronaut photo ships with scikit-image."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# TestClient's default host, "testserver", is no IP address: the server's host check (DNS rebinding) refuses it.
BASE = "http://127.0.0.1:8000"
MEDIA = Path(os.environ.get("TRYON_MEDIA", Path(__file__).resolve().parents[2] / "shared" / "media"))


def media_path(rel: str) -> Path:
    p = MEDIA / rel
    if not p.exists():
        pytest.skip(f"test media not found: {p} (set TRYON_MEDIA to the shared media folder)")
    return p


def load_rgb(rel: str) -> np.ndarray:
    bgr = cv2.imread(str(media_path(rel)))
    assert bgr is not None, rel
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def world_mesh(scene, node: str):
    """The node's geometry moved into the scene's base frame, with its own normals (``copy`` drops them)."""
    import trimesh

    transform, geom_name = scene.graph[node]
    mesh = scene.geometry[geom_name]
    moved = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_normals=mesh.vertex_normals, process=False)
    moved.visual = mesh.visual
    return moved.apply_transform(transform)


def merged(mesh):
    """Vertices merged by position, as a watertightness check needs (flat parts duplicate them)."""
    import trimesh

    return trimesh.Trimesh(mesh.vertices, mesh.faces, process=True)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def catalog():
    from tryon.jewelry.catalog import Catalog

    return Catalog.load()


@pytest.fixture(scope="session")
def face_model():
    from tryon.anchors.face_model import load_face_model

    return load_face_model()


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """A clip for Chromium's fake camera (--use-file-for-fake-video-capture), which plays it in a loop."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            f.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def make_cert(directory: Path, name: str = "server") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM, no passphrase; the TLS tests').
    cryptography comes with aiortc."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def svg_to_png(svg: bytes) -> np.ndarray:
    """segno's SVG is a single path of unit squares: draw it with OpenCV (no SVG library needed)."""
    text = svg.decode()
    scale = int(text.split('transform="scale(')[1].split(")")[0])
    size = int(text.split('width="')[1].split('"')[0]) // scale
    path = text.split('stroke="#000" d="')[1].split('"')[0]
    img = np.full((size * 10, size * 10), 255, np.uint8)
    x = y = 0.0
    # Commands: "M x y" (move), "h n" (a horizontal run), "m dx dy" (relative move); stroke width 1 at y + 0.5.
    tokens = path.replace("M", " M ").replace("m", " m ").replace("h", " h ").split()
    i = 0
    while i < len(tokens):
        op = tokens[i]
        if op in ("M", "m"):
            dx, dy = float(tokens[i + 1]), float(tokens[i + 2])
            x, y = (dx, dy) if op == "M" else (x + dx, y + dy)
            i += 3
        elif op == "h":
            run = float(tokens[i + 1])
            x0, x1 = sorted((x, x + run))
            img[int((y - 0.5) * 10):int((y + 0.5) * 10), int(x0 * 10):int(x1 * 10)] = 0
            x += run
            i += 2
        else:
            raise AssertionError(f"unexpected SVG path command {op!r}")
    return img


def decode_qr(image: np.ndarray) -> str:
    """The QR code's text. OpenCV's detector misses about 1 in 100 codes at one size (the links' tokens are
    random), so it looks at a few sizes: 200 random links, 2 missed at full size, none this way."""
    for scale in (1.0, 0.5, 0.3, 2.0):
        shown = image if scale == 1.0 else cv2.resize(
            image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST)
        text, points, _ = cv2.QRCodeDetector().detectAndDecode(shown)
        if points is not None and text:
            return text
    raise AssertionError("no QR code found")
