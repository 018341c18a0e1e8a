"""This project served by gunicorn in a child process, on loopback: for the load benchmark and the tests of
concurrent writers, which must measure the real server rather than Django's test client."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """`with Served(env, workers=2, threads=4) as url:` gunicorn runs config.wsgi with `env` over os.environ."""

    def __init__(self, env: dict, *, workers=2, threads=1):
        self.env, self.workers, self.threads = env, workers, threads
        self.port = free_port()
        self.process = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--threads", str(self.threads), "--log-level", "warning"],
            cwd=BASE_DIR, env={**os.environ, **self.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {self.process.stdout.read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return f"http://127.0.0.1:{self.port}"
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not start within a minute")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.output = self.process.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.output = self.process.communicate()[0]


def manage(env: dict, *args):
    """Run `manage.py args` with `env` over os.environ; raise with its output if it fails."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
