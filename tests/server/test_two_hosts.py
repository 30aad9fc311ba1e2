"""Two app processes, each with its own instance folder, sharing one PostgreSQL and one object store.

A photo pushed to one is pulled from the other, signed in on the first, and an upload in
parts begun on one is finished on the other: nothing a request needs lives on a local disk
or in a process's memory.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tests import images
from tests.factories import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    """One gunicorn serving the app from its own instance folder, stopped by `stop()`."""

    def __init__(self, instance, env):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        instance.mkdir()
        self.log = (instance / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "server:create_app()"],
            env={**os.environ, **env, "GEMBA_INSTANCE_DIR": str(instance)},
            stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited while starting"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet, or slow to answer its first request on a busy machine
                pass
            time.sleep(0.1)  # polling with a deadline, not waiting for a guess
        raise AssertionError(f"{self.url} did not answer within {timeout} s")

    def stop(self):
        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no graceful wait for idle keep-alives
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def _request(opener, method, url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.postgres_only
def test_a_photo_pushed_to_one_host_is_pulled_from_the_other(database_url, s3_settings, tmp_path, make, commit):
    staff = make.user("staff", home_area=make.area())
    commit()
    env = {"GEMBA_DATABASE_URL": database_url, "GEMBA_SECRET_KEY": "shared-by-both-hosts",
           **{k: v for k, v in s3_settings.items()}}
    hosts = [Host(tmp_path / "host-a", env), Host(tmp_path / "host-b", env)]
    try:
        for host in hosts:
            host.wait_ready()
        a, b = hosts
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        status, _, body = _request(opener, "POST", a.url + "/api/auth/login",
                                   json.dumps({"email": staff.email, "password": PASSWORD}).encode(),
                                   {"Content-Type": "application/json"})
        assert status == 200, body
        csrf = json.loads(body)["csrf_token"]

        data = images.jpeg(300, 200)
        sha = images.sha(data)
        status, _, body = _request(opener, "PUT", f"{a.url}/api/photos/{sha}", data,
                                   {"Content-Type": "image/jpeg", "X-CSRFToken": csrf})
        assert status == 201, body

        # An upload in parts cut on one host resumes on the other: parts are in the database.
        parted = images.noisy_jpeg(400, 300)
        parted_sha = images.sha(parted)
        half = len(parted) // 2
        upload = {"Content-Type": "image/jpeg", "X-CSRFToken": csrf}
        status, headers, body = _request(opener, "PUT", f"{a.url}/api/photos/{parted_sha}/upload", parted[:half],
                                         upload | {"Content-Range": f"bytes 0-{half - 1}/{len(parted)}"})
        assert status == 202 and headers["Upload-Offset"] == str(half), body
        status, headers, _ = _request(opener, "HEAD", f"{b.url}/api/photos/{parted_sha}/upload")
        assert status == 200 and headers["Upload-Offset"] == str(half)
        status, _, body = _request(opener, "PUT", f"{b.url}/api/photos/{parted_sha}/upload", parted[half:],
                                   upload | {"Content-Range": f"bytes {half}-{len(parted) - 1}/{len(parted)}"})
        assert status == 201, body
        status, _, pulled = _request(opener, "GET", f"{a.url}/api/photos/{parted_sha}?size=original")
        assert status == 200 and pulled == parted

        # The other host: same session (server-side, in the database), same bytes (in the bucket).
        status, headers, pulled = _request(opener, "GET", f"{b.url}/api/photos/{sha}?size=original")
        assert status == 200, pulled
        assert pulled == data
        status, headers, display = _request(opener, "GET", f"{b.url}/api/photos/{sha}?size=display")
        assert status == 200 and headers["Content-Type"] == "image/jpeg" and display[:2] == b"\xff\xd8"
        for host in ("host-a", "host-b"):
            assert not (tmp_path / host / "photos").exists() and not (tmp_path / host / "uploads").exists()
    finally:
        for host in hosts:
            host.stop()
