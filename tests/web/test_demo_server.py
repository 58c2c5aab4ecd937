"""`itb demo` end to end: the served registry answers its analysis pages.

The demo computes the report and imports the cohort before serving; gunicorn's forked
workers once inherited polars' thread pool from that process and hung in their first analysis
(the follow-up board, the patient page). Only a real server shows this: the test client and
the browser tests' live server never fork.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the demo server did not answer at {url}")


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ITB_DATA_DIR")}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "itb.cli", "demo", "--out", str(tmp_path / "demo"),
             "--port", str(port)], cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/login/", time.monotonic() + 120)
        match = re.search(r"user clinician\s+password (\S+)", log.read_text())
        assert match, log.read_text()
        yield base, match.group(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a hung worker may ignore the polite stop
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_demo_serves_the_follow_up_board_and_the_patient_page(demo) -> None:  # type: ignore[no-untyped-def]
    base, password = demo
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login/", timeout=10)
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "clinician",
                                   "password": password}).encode()
    login = urllib.request.Request(f"{base}/login/", data=form,
                                   headers={"Referer": f"{base}/login/"})
    assert opener.open(login, timeout=10).geturl() == f"{base}/"

    # Well inside gunicorn's 30 s worker timeout: a hung worker fails here, not by a kill.
    board = opener.open(f"{base}/follow-up/", timeout=20).read().decode()
    assert "ITB021" in board  # the cohort's overdue patient
    patient = opener.open(f"{base}/patients/ITB021/", timeout=20).read().decode()
    assert "2024-07-22" in patient  # its next refill date, computed for the demo's date
