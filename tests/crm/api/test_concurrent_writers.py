"""The embedded default holds concurrent writers: SQLite in a file, gunicorn with two processes of four
threads, users saving their own appointments at once through the API (the worker writes beside them the
same way). Without IMMEDIATE transactions and a busy timeout, about half of these saves were 500s."""

import json
import threading
import urllib.request

from config.serving import Served, manage

USERS = ["marc", "alice", "dana", "tom"]
SAVES = 10


def call(url, method="GET", token=None, body=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Token {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own loopback server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()[:300]
    except OSError as error:  # a timeout, a dropped connection: a failed save too
        return 0, repr(error)


def test_users_saving_at_once_on_the_embedded_database_all_succeed(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}", "DJANGO_SETTINGS_MODULE": "config.settings",
           "CELERY_BROKER_URL": "memory://", "CACHE_URL": "locmemcache://", "DEBUG": "false"}
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo")
    with Served(env, workers=2, threads=4) as url:
        clients = {}
        for name in USERS:
            status, answer = call(f"{url}/api/v1/auth/token/", "POST", body={"username": name, "password": "demo"})
            assert status == 200, answer
            me = call(f"{url}/api/v1/me/", token=answer["token"])[1]
            own = call(f"{url}/api/v1/actions/?owner={me['id']}&page_size={SAVES}", token=answer["token"])[1]
            clients[name] = (answer["token"], [row["id"] for row in own["results"]])
            assert len(clients[name][1]) == SAVES
        start, answers = threading.Barrier(len(USERS)), []

        def save_all(name):
            token, ids = clients[name]
            start.wait()
            for number, pk in enumerate(ids):
                answers.append(call(f"{url}/api/v1/actions/{pk}/", "PATCH", token,
                                    {"subject": f"Saved by {name} #{number}"}))
        threads = [threading.Thread(target=save_all, args=(name,)) for name in USERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    errors = [answer for answer in answers if answer[0] != 200]
    assert len(answers) == len(USERS) * SAVES
    assert errors == []
