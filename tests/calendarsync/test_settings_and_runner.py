import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings

from calendarsync import app_settings


def test_provider_urls_default_to_the_real_services_and_can_be_overridden(settings):
    del settings.CALENDARSYNC_GOOGLE_TOKEN_URL  # the tests' guard against reaching Google, lifted here
    assert app_settings.GOOGLE_TOKEN_URL == "https://oauth2.googleapis.com/token"
    settings.CALENDARSYNC_GOOGLE_TOKEN_URL = "http://127.0.0.1:9/token"
    assert app_settings.GOOGLE_TOKEN_URL == "http://127.0.0.1:9/token"


def test_settings_from_the_environment_keep_their_type_and_drive_the_periodic_pull():
    """A share, a count and a switch set in the environment reach the code as numbers and booleans."""
    code = ("from django.conf import settings; from calendarsync import app_settings as a; "
            "print(repr((a.MASS_DELETE_SHARE, a.OUTBOX_ATTEMPTS, a.PULL_MINUTES, "
            "settings.CELERY_BEAT_SCHEDULE['pull-selected-calendars']['schedule'])))")
    environment = {**os.environ, "CALENDARSYNC_MASS_DELETE_SHARE": "0.3", "CALENDARSYNC_OUTBOX_ATTEMPTS": "7",
                   "CALENDARSYNC_PULL_MINUTES": "5", "DJANGO_SETTINGS_MODULE": "config.settings"}
    output = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], env=environment,
                            cwd=settings.BASE_DIR, capture_output=True, text=True, check=True).stdout
    assert output.strip() == "(0.3, 7, 5, 300.0)"


def read_when_serving(url, cafile=None, seconds=20):
    """Return the body at `url` once something answers there (the runner starts its servers in turn,
    and writes the test CA file before its TLS server listens)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
            with urllib.request.urlopen(url, context=context) as response:  # noqa: S310 - loopback
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_runner_serves_the_demo_sandboxes_until_stopped(unused_ports, tmp_path):
    google_port, microsoft_port, caldav_port = unused_ports
    process = subprocess.Popen([sys.executable, "manage.py", "run_sandboxes", "--demo", "--google-port",
                                str(google_port), "--microsoft-port", str(microsoft_port), "--tls-dir", str(tmp_path),
                                "--state-dir", str(tmp_path / "state"), "--microsoft-consent-port", "0",
                                "--caldav-port", str(caldav_port)],
                               cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True)
    try:
        google = f"http://127.0.0.1:{google_port}"
        assert json.loads(read_when_serving(f"{google}/__sandbox__/counters"))["requests"] == {}
        consent = read_when_serving(f"{google}/o/oauth2/v2/auth?client_id=c&redirect_uri=http://x/&response_type=code")
        assert b"alice@demo.example" in consent
        metadata = read_when_serving(f"https://127.0.0.1:{microsoft_port}/common/v2.0/.well-known/openid-configuration",
                                     cafile=tmp_path / "sandbox-ca.pem")
        assert json.loads(metadata)["token_endpoint"].endswith("/common/oauth2/v2.0/token")
        principal = urllib.request.Request(f"http://127.0.0.1:{caldav_port}/alice/", method="PROPFIND",
                                           headers={"Authorization": "Basic YWxpY2U6ZGVtbw==", "Depth": "0"})
        assert b"current-user-principal" in read_when_serving(principal)  # the demo CalDAV server, as alice
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"127.0.0.1:{google_port}" in output
    assert f"https://127.0.0.1:{microsoft_port}" in output
    assert f"Demo CalDAV server (Radicale) on http://127.0.0.1:{caldav_port}/" in output
    assert process.returncode == 0
    assert (tmp_path / "state" / "caldav-demo" / "collections").is_dir()
    saved = json.loads((tmp_path / "state" / "microsoft.json").read_text())
    assert "marc@demo.example" in saved["users"]
    assert len(json.loads((tmp_path / "state" / "google.json").read_text())["calendars"]) == 6


def test_the_sandbox_benchmark_prints_its_figures(capsys):
    from django.core.management import call_command

    call_command("benchmark_sandbox", events=300)
    figures = json.loads(capsys.readouterr().out)
    google, microsoft = figures["google"], figures["microsoft"]
    assert (google["items"], google["list_requests"]) == (300, 1)
    assert microsoft["items"] >= 300  # series add their occurrences
    assert microsoft["list_requests"] == 1 + microsoft["items"] // 1000
    assert google["sandbox_seconds"] > 0
    assert microsoft["sandbox_seconds"] > 0


def test_the_api_load_benchmark_prints_its_figures():
    """A short run in a process of its own (it serves gunicorn on a database it makes and drops)."""
    done = subprocess.run([sys.executable, "manage.py", "benchmark_api", "--clients", "2", "--seconds", "0.5",
                           "--workers", "1"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["appointments_in_window"] == 150
    [run] = figures["runs"]
    for endpoint in ("trivial", "window"):
        assert run[endpoint]["requests"] > 0
        assert run[endpoint]["errors"] == 0


@pytest.mark.django_db(transaction=True)
def test_the_caldav_benchmark_syncs_both_clients_and_prints_their_figures(capsys):
    """A small calendar: what matters here is that both syncs ran whole, not their speed."""
    from django.core.management import call_command

    call_command("benchmark_sync", provider=["caldav"], events=60, rounds=1)
    [figures] = json.loads(capsys.readouterr().out)["caldav"]["rounds"]
    ours, theirs = figures["first_sync"]["ours"], figures["first_sync"]["vdirsyncer"]
    assert (ours["created"], ours["skipped"], ours["error"]) == (72, 0, "")  # 6 series, two changed occurrences each
    assert theirs["files"] == 60
    after = figures["after_10_changes"]["ours"]
    assert (after["created"], after["updated"], after["deleted"]) == (1, 8, 1)
