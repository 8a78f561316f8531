"""Production mode under gunicorn, over loopback as a TLS proxy would call it: the security
headers on pages, the HTTPS redirect, secure cookies, and static files served (whitenoise,
hashed names from collectstatic)."""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HOST = "registry.example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("production")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "EMAIL_URL"}
    }
    env.update(
        PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS=HOST,
        STATIC_ROOT=str(folder / "static"),
        STATIC_COMPRESS="0",  # hashed names as in production, without a minute of brotli
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="registry.settings",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/healthz", headers={"Host": "localhost"}, timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"gunicorn did not start: {process.stdout.read().decode()[-2000:]}")
    yield base, folder / "static"
    process.terminate()
    process.wait(timeout=20)


def get(base: str, path: str, **headers) -> httpx.Response:
    sent = {"Host": HOST, "X-Forwarded-Proto": "https", **headers}
    return httpx.get(base + path, headers=sent, timeout=20, follow_redirects=False)


def test_pages_carry_every_security_header(server):
    base, _ = server
    response = get(base, "/accounts/login/")
    assert response.status_code == 200
    headers = response.headers
    assert "unsafe" not in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]
    assert "no-store" in headers["cache-control"]
    assert "max-age=31536000" in headers["strict-transport-security"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    cookie = headers["set-cookie"]
    assert "csrftoken=" in cookie and "Secure" in cookie
    signed_in_only = get(base, "/patients/")
    assert signed_in_only.status_code == 302
    assert "no-store" in signed_in_only.headers["cache-control"]


def test_plain_http_is_sent_to_https(server):
    base, _ = server
    response = get(base, "/accounts/login/", **{"X-Forwarded-Proto": "http"})
    assert response.status_code == 301
    assert response.headers["location"] == f"https://{HOST}/accounts/login/"


def test_static_files_are_served_with_hashed_names_and_cache_headers(server):
    base, static_root = server
    html = get(base, "/accounts/login/").text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    bootstrap = [link for link in links if "bootstrap" in link]
    assert bootstrap and all(re.search(r"\.[0-9a-f]{12}\.", link) for link in bootstrap)
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    plotly = [name for name in manifest if re.search(r"plotly(\.min)?\.js$", name)]
    for path in links + [f"/static/{manifest[name]}" for name in plotly]:
        response = get(base, path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("cache-control", ""), path
        assert "max-age" in response.headers["cache-control"], path
