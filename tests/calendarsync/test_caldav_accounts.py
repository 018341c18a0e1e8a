"""Adding a CalDAV account on the settings page and through the API, against a real Radicale: the calendars a
worker finds, the password kept encrypted, and a sentence for each way it goes wrong."""

import http.server
import threading

import pytest
from django.db import connection
from django.urls import reverse

from calendarsync import services
from calendarsync.models import AccountProblem, AccountState, ExternalAccount, RemoteCalendar
from tests import caldav_servers, factories
from tests.caldav_servers import PASSWORD, USER, make_calendar
from tests.conftest import then_the_worker

ADD = reverse("calendarsync:caldav-add")


@pytest.fixture
def radicale(tmp_path):
    with caldav_servers.radicale(tmp_path, read_only=["holidays"]) as server:
        yield server


def add(client, **form):
    """Submit the Add a CalDAV account form; the worker then does what it was asked."""
    with then_the_worker():
        return client.post(ADD, {"preset": "generic", "username": USER, "password": PASSWORD, **form})


def the_account(user):
    return ExternalAccount.objects.get(user=user, provider="caldav")


def test_an_account_added_on_the_page_lists_its_calendars_with_their_zone_and_rights(
        client, alice, sync_allowed, radicale):
    make_calendar(radicale, "work", display_name="Work", color="#33B679", time_zone="Europe/Paris")
    client.force_login(alice)
    answer = add(client, server_url=radicale.url)
    assert answer.status_code == 302
    account = the_account(alice)
    assert (account.state, account.problem, account.username, account.home_url) == (
        "active", "", USER, radicale.url + radicale.home.lstrip("/"))
    calendars = {calendar.name: calendar for calendar in account.calendars.all()}
    assert (calendars["Work"].color, calendars["Work"].time_zone, calendars["Work"].can_write) == (
        "#33b679", "Europe/Paris", True)
    assert not calendars["Holidays"].can_write  # read-only for this user: it can only be imported
    page = client.get(reverse("calendarsync:settings")).content.decode()
    assert "Work" in page
    assert "Holidays" in page
    assert "127.0.0.1" in page
    with connection.cursor() as cursor:  # the password is stored encrypted, like OAuth tokens
        cursor.execute("SELECT refresh_token FROM calendarsync_externalaccount WHERE id = %s", [account.pk])
        assert PASSWORD not in cursor.fetchone()[0]


def test_adding_the_same_account_again_replaces_its_password_and_makes_no_copy(client, alice, sync_allowed,
                                                                                 radicale):
    client.force_login(alice)
    add(client, server_url=radicale.url, password="wrong")
    account = the_account(alice)
    assert (account.state, account.problem) == (AccountState.RECONNECT, AccountProblem.REVOKED)
    problem = client.get(reverse("calendarsync:settings")).content.decode()
    assert "refused the user name or the password" in problem
    assert "app password" in problem
    add(client, server_url=radicale.url.rstrip("/"))  # the same address, typed without its slash
    account = the_account(alice)
    assert ExternalAccount.objects.filter(user=alice).count() == 1
    assert (account.state, account.problem, account.calendars.count()) == ("active", "", 1)


def test_reconnecting_with_a_new_password_keeps_the_account_and_its_calendars(client, alice, sync_allowed, radicale):
    client.force_login(alice)
    add(client, server_url=radicale.url)
    account = the_account(alice)
    calendar = account.calendars.get()
    ExternalAccount.objects.filter(pk=account.pk).update(state=AccountState.RECONNECT, problem=AccountProblem.REVOKED)
    add(client, server_url=radicale.url, account=account.pk)
    account.refresh_from_db()
    assert (account.state, account.calendars.get().pk) == ("active", calendar.pk)


def test_each_way_discovery_fails_has_its_own_sentence(client, alice, sync_allowed, radicale, unused_ports):
    client.force_login(alice)
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        cases = [(f"http://127.0.0.1:{site.server_address[1]}/", "not a CalDAV server"),
                 (radicale.url.replace("http:", "https:"), "certificate could not be verified"),
                 (f"http://127.0.0.1:{unused_ports[0]}/", "Nothing answered at 127.0.0.1"),
                 (radicale.url + "nobody/", "No calendar was found")]
        for url, sentence in cases:
            add(client, server_url=url)
            account = ExternalAccount.objects.get(user=alice, server_url=url if url.endswith("/") else url + "/")
            page = client.get(reverse("calendarsync:settings")).content.decode()
            assert sentence in page, url
            assert account.calendars.count() == 0
    finally:
        site.shutdown()
        site.server_close()


@pytest.mark.parametrize(("form", "sentence"), [
    ({"preset": "nextcloud", "server_url": ""}, "Give the server&#x27;s address"),
    ({"server_url": "http://calendar.example.org/"}, "must start with https://"),
    ({"server_url": "https://calendar.example.org/", "password": ""}, "This field is required"),
    ({"preset": "unknown"}, "Select a valid choice"),
])
def test_a_form_that_cannot_be_used_comes_back_with_the_reason_and_nothing_kept(client, alice, sync_allowed, form,
                                                                                 sentence):
    client.force_login(alice)
    answer = client.post(ADD, {"preset": "generic", "username": USER, "password": PASSWORD, **form})
    assert answer.status_code == 400
    assert sentence in answer.content.decode()
    assert PASSWORD not in answer.content.decode()
    assert not ExternalAccount.objects.filter(user=alice).exists()


def test_a_profile_without_caldav_may_not_add_one(client, alice, sync_allowed):
    sync_allowed.allow_caldav = False
    sync_allowed.save()
    client.force_login(alice)
    assert "does not allow connecting CalDAV" in client.get(reverse("calendarsync:settings")).content.decode()
    answer = client.post(ADD, {"preset": "icloud", "username": "ada@icloud.com", "password": "abcd-efgh"})
    assert answer.status_code == 403
    assert not ExternalAccount.objects.exists()


def test_the_api_adds_and_reconnects_a_caldav_account(api_as, alice, sync_allowed, radicale):
    api = api_as(alice)
    rows = {row["provider"]: row for row in api.get("/api/v1/sync/providers/").json()}
    assert (rows["caldav"]["available"], rows["caldav"]["needs_browser"], rows["google"]["needs_browser"]) == (
        True, False, True)
    with then_the_worker():
        answer = api.post("/api/v1/sync/accounts/", {"server_url": radicale.url, "username": USER,
                                                     "password": "wrong"}, format="json")
    assert answer.status_code == 202, answer.json()
    assert "password" not in answer.json()
    account = api.get(f"/api/v1/sync/accounts/{answer.json()['id']}/").json()
    assert (account["state"], account["problem"]) == ("reconnect", "revoked")
    with then_the_worker():
        again = api.post(f"/api/v1/sync/accounts/{account['id']}/reconnect/", {"password": PASSWORD}, format="json")
    assert again.status_code == 202, again.json()
    account = api.get(f"/api/v1/sync/accounts/{account['id']}/").json()
    assert (account["state"], account["problem_text"]) == ("active", "")
    assert api.get("/api/v1/sync/calendars/", {"account": account["id"]}).json()["count"] == 1


def test_the_api_says_what_is_wrong_with_a_request(api_as, alice, sync_allowed):
    api = api_as(alice)
    missing = api.post("/api/v1/sync/accounts/", {"preset": "nextcloud", "username": USER, "password": "x"},
                       format="json")
    assert missing.status_code == 400
    assert "address" in missing.json()["detail"]
    unknown = api.post("/api/v1/sync/accounts/", {"preset": "aol", "username": USER, "password": "x"}, format="json")
    assert unknown.status_code == 400
    assert "preset" in unknown.json()["detail"]
    google = factories.external_account(alice)
    refused = api.post(f"/api/v1/sync/accounts/{google.pk}/reconnect/", {"password": "x"}, format="json")
    assert refused.status_code == 400
    assert "browser" in refused.json()["detail"]
    assert ExternalAccount.objects.filter(user=alice).count() == 1


def test_a_calendar_home_that_moved_is_looked_for_again(client, alice, sync_allowed, radicale):
    client.force_login(alice)
    add(client, server_url=radicale.url)
    account = the_account(alice)
    ExternalAccount.objects.filter(pk=account.pk).update(home_url=radicale.url + "alice/gone/")  # moved
    account.refresh_from_db()
    assert services.calendars_refresh(account, force=True)  # 404 there: discovery again, from the address given
    account.refresh_from_db()
    assert (account.problem, account.home_url) == ("", radicale.url + radicale.home.lstrip("/"))
    assert account.calendars.count() == 1


@pytest.mark.parametrize(("address", "sentence"), [
    ("https://[::1", "Give the server"),
    ("https://cloud.example.org:port/", "Give the server"),
    ("https://ada:secret@cloud.example.org/", "in their own fields"),
    ("cloud.example.org/" + "x" * 478, "too long"),  # 496 characters, 504 once https:// is put before it
])
def test_an_address_that_cannot_be_used_is_a_400_with_the_reason(api_as, alice, sync_allowed, address, sentence):
    answer = api_as(alice).post("/api/v1/sync/accounts/", {"server_url": address, "username": USER,
                                                          "password": PASSWORD}, format="json")
    assert answer.status_code == 400
    assert sentence in answer.json()["detail"]
    assert not ExternalAccount.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api_as, alice, sync_allowed):
    answer = api_as(alice).post("/api/v1/sync/accounts/", [1, 2], format="json")
    assert answer.status_code == 400


def test_a_server_reached_at_a_link_local_or_loopback_address_is_refused(client, alice, sync_allowed, radicale,
                                                                         settings):
    """A cloud's metadata service (169.254.169.254) or this machine's own services are not a calendar server."""
    client.force_login(alice)
    add(client, server_url="https://169.254.169.254/latest/")
    settings.CALENDARSYNC_CALDAV_ALLOW_LOOPBACK = False
    add(client, server_url=radicale.url.replace("127.0.0.1", "localhost"))
    problems = dict(ExternalAccount.objects.values_list("server_url", "problem"))
    assert set(problems.values()) == {"forbidden_address"}
    page = client.get(reverse("calendarsync:settings")).content.decode()
    assert "leads to an address this CRM does not reach" in page
    assert not RemoteCalendar.objects.exists()


def test_two_adds_of_the_same_account_at_once_make_one(alice, sync_allowed):
    """A double click, or an API call retried: the second finds the first (the unique constraint decides)."""
    from unittest import mock

    first = services.caldav_connect(alice, server_url="https://cloud.example.org/", username=USER, password="a")
    real = ExternalAccount.objects.select_for_update
    with mock.patch.object(ExternalAccount.objects, "select_for_update",
                           side_effect=lambda: real().none()):  # as if the other request had not committed yet
        again = services.caldav_connect(alice, server_url="https://cloud.example.org/", username=USER, password="a")
    assert again.pk == first.pk
    assert ExternalAccount.objects.count() == 1
