"""A server program run as a process of its own on loopback, for as long as it is needed: started, waited
for until it listens, stopped (killed if it will not stop), its output in a log file. The demo's CalDAV
server, the CalDAV benchmark and the tests' CalDAV servers run so."""

import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

STARTUP_SECONDS = 30


@contextmanager
def serving(command: list[str], port: int, log: Path, *, host="127.0.0.1", startup=STARTUP_SECONDS):
    """Run `command` until the block ends; it must listen on `port` within `startup` seconds."""
    with log.open("a") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_for(process, host, port, log, startup)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(process, host, port, log, startup):
    deadline = time.monotonic() + startup
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on {host}:{port} within {startup} s")
