"""benchmark_availability runs whole for a small team, in a process of its own (as a user runs it), on a database
named apart from the tests': one request per account, pages that never wait and whose queries do not grow."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def test_the_availability_benchmark_asks_each_account_once_and_prints_its_figures():
    environment = {**os.environ}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    if environment.get("DATABASE_URL", "").startswith("postgres"):
        parts = urlsplit(environment["DATABASE_URL"])
        environment["DATABASE_URL"] = urlunsplit(parts._replace(path="/availability_benchmark"))
    done = subprocess.run([sys.executable, "manage.py", "benchmark_availability", "--people", "4"], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    cold, worker, cached = figures["page_with_a_cold_cache"], figures["worker_fetches"], figures["page_cached"]
    assert (cold["provider_requests"], cold["calendar_answers"]) == (0, {"ok": 4, "pending": 4})
    assert (worker["accounts"], worker["provider_requests"], worker["errors"]) == (4, 4, [])
    assert cached["provider_requests"] == 0
    assert cached["calendar_answers"] == {"ok": 8}
    assert len(set(figures["page_cached_by_team_size"].values())) == 1
