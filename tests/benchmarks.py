"""Running a benchmark command whole, as a user runs it: in a process of its own (its servers' threads need a
database of their own), on a database named apart from the tests'; its printed figures."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def figures_of(command: str, *arguments: str, database: str) -> dict:
    environment = {**os.environ}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    if environment.get("DATABASE_URL", "").startswith("postgres"):
        parts = urlsplit(environment["DATABASE_URL"])
        environment["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
    done = subprocess.run([sys.executable, "manage.py", command, *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
