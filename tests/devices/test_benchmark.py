"""benchmark_dav runs whole on a small calendar: both servers serve it all, then the ten changes. It runs as a
user runs it, in a process of its own (its server's threads need a database of their own), on a database
named apart from the tests'."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def test_the_dav_benchmark_serves_both_servers_and_prints_their_figures():
    environment = {**os.environ}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    if environment.get("DATABASE_URL", "").startswith("postgres"):
        parts = urlsplit(environment["DATABASE_URL"])
        environment["DATABASE_URL"] = urlunsplit(parts._replace(path="/dav_benchmark"))
    done = subprocess.run([sys.executable, "manage.py", "benchmark_dav", "--appointments", "60"], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    for server in ("ours", "radicale"):
        assert figures[server]["first_sync"]["resources"] == 60
        after = figures[server]["after_10_changes"]
        assert (after["changed"], after["removed"]) == (9, 1)
    ours = figures["ours"]
    assert ours["after_10_changes"]["db_queries"] == ours["after_10_changes_in_200"]["db_queries"]
    assert ours["first_sync"]["requests"] == figures["radicale"]["first_sync"]["requests"] == 2
