"""``leadflow serve`` for real: a key and a form made with the CLI, then real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'leadflow.db'}"}
    env.pop("LEADFLOW_PLAYBOOK", None)
    return env


def leadflow(tmp_path: Path, *args: str) -> str:
    """Run the CLI; return what it printed on stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "leadflow", *args],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(params=[1, 2], ids=["1 worker", "2 workers, no access log"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The base URL of a running ``leadflow serve``; the process always ends with the test.
    Its output goes to ``serve.log``; the two-worker server runs without an access log."""
    leadflow(tmp_path, "init")  # migrate before the server starts, so nobody races
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    workers = str(request.param)
    quiet = ["--no-access-log"] if request.param == 2 else []
    command = [sys.executable, "-m", "leadflow", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", workers, *quiet],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /healthz in time"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.slow
def test_serve_captures_inquiries_and_form_posts(
    server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    key = leadflow(tmp_path, "keys", "create", "--scope", "capture", "--name", "site").strip()
    form = leadflow(
        tmp_path, "forms", "create", "Contact", "--thank-you", "https://example.com/t",
        "--map", "00N5e00000abcde=budget",
    ).strip()  # fmt: skip
    assert key.startswith("lf_") and "\n" not in key
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server, timeout=10) as client:
        body = {"email": "ann@acme.io", "product": "starter", "budget": "approved"}
        first = client.post(
            "/api/v1/inquiries", json=body, headers={**auth, "Idempotency-Key": "k1"}
        )
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "captured" and first.json()["grade"]
        again = client.post(
            "/api/v1/inquiries", json=body, headers={**auth, "Idempotency-Key": "k1"}
        )
        assert again.status_code == 200
        assert again.json()["inquiry_id"] == first.json()["inquiry_id"]
        assert again.json()["status"] == "repeated"

        posted = client.post(
            f"/f/{form}",
            data={"email": "bob@acme.io", "00N5e00000abcde": "approved", "oid": "00D1"},
        )
        assert posted.status_code == 303
        assert posted.headers["location"] == "https://example.com/t"
        assert client.post("/api/v1/inquiries", json=body).status_code == 401
    exported = leadflow(tmp_path, "export", "inquiries", "-o", "-")
    rows = exported.strip().splitlines()
    assert len(rows) == 3, exported  # the header, one API inquiry (retried), one form post
    assert ",api," in rows[1] and f",form,{form}," in rows[2]
    listed = leadflow(tmp_path, "keys", "list")
    assert key.split("_")[1] in listed and key not in listed
    logged = (tmp_path / "serve.log").read_text()
    access = '"POST /api/v1/inquiries HTTP/1.1" 201' in logged
    assert access == (request.node.callspec.params["server"] == 1), logged
