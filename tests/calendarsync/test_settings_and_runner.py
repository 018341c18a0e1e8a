import json
import subprocess
import sys
import time
import urllib.request

from django.conf import settings

from calendarsync import app_settings


def test_provider_urls_default_to_the_real_services_and_can_be_overridden(settings):
    assert app_settings.GOOGLE_TOKEN_URL == "https://oauth2.googleapis.com/token"
    settings.CALENDARSYNC_GOOGLE_TOKEN_URL = "http://127.0.0.1:9/token"
    assert app_settings.GOOGLE_TOKEN_URL == "http://127.0.0.1:9/token"


def test_the_runner_serves_the_demo_sandbox_until_stopped(unused_port):
    process = subprocess.Popen([sys.executable, "manage.py", "run_sandboxes", "--demo", "--google-port",
                                str(unused_port)], cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{unused_port}/__sandbox__/counters"
        for _ in range(100):
            try:
                with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback
                    assert json.loads(response.read())["requests"] == {}
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the sandbox did not start")
        authorize = f"http://127.0.0.1:{unused_port}/o/oauth2/v2/auth?client_id=c&redirect_uri=http://x/&response_type=code"
        with urllib.request.urlopen(authorize) as response:  # noqa: S310 - loopback
            assert b"alice@demo.example" in response.read()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"127.0.0.1:{unused_port}" in output
    assert process.returncode == 0


def test_the_sandbox_benchmark_prints_its_figures(capsys):
    from django.core.management import call_command

    call_command("benchmark_sandbox", events=300)
    figures = json.loads(capsys.readouterr().out)
    assert (figures["events"], figures["list_requests"]) == (300, 1)
    assert figures["sandbox_seconds"] > 0
