"""Contract tests of the Google sandbox, through google-api-python-client and google-auth."""

import json
import urllib.error
import urllib.request

import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

EVENT = {"summary": "Kick-off", "start": {"dateTime": "2026-11-23T10:00:00+01:00", "timeZone": "Europe/Paris"},
         "end": {"dateTime": "2026-11-23T11:00:00+01:00", "timeZone": "Europe/Paris"}}


def reason(error: HttpError):
    return error.error_details[0]["reason"]


def test_refresh_then_list_calendars(client):
    calendars = client.calendarList().list().execute()
    assert [(c["id"], c["accessRole"], c.get("primary")) for c in calendars["items"]] == [
        ("ada@example.com", "owner", True)]
    assert calendars["items"][0]["backgroundColor"].startswith("#")


def test_insert_get_patch_delete_with_etags(client, google):
    created = client.events().insert(calendarId="primary", body=EVENT, sendUpdates="none").execute()
    assert created["iCalUID"] == f"{created['id']}@google.com"
    assert client.events().get(calendarId="primary", eventId=created["id"]).execute()["summary"] == "Kick-off"

    request = client.events().patch(calendarId="primary", eventId=created["id"], body={"location": "Paris"})
    request.headers["If-Match"] = created["etag"]
    patched = request.execute()
    assert (patched["location"], patched["summary"]) == ("Paris", "Kick-off")
    assert patched["etag"] != created["etag"]

    stale = client.events().patch(calendarId="primary", eventId=created["id"], body={"location": "Lyon"})
    stale.headers["If-Match"] = created["etag"]
    with pytest.raises(HttpError) as error:
        stale.execute()
    assert (error.value.status_code, reason(error.value)) == (412, "conditionNotMet")

    client.events().delete(calendarId="primary", eventId=created["id"]).execute()
    assert client.events().get(calendarId="primary", eventId=created["id"]).execute()["status"] == "cancelled"
    with pytest.raises(HttpError) as error:
        client.events().delete(calendarId="primary", eventId=created["id"]).execute()
    assert error.value.status_code == 410
    writes = google.control("GET", "counters")["writes"]
    assert [(write["method"], write["sendUpdates"]) for write in writes] == [
        ("insert", "none"), ("patch", None), ("delete", None)]


def test_client_chosen_ids_make_inserts_idempotent(client):
    body = {**EVENT, "id": "crm0000000000000001"}
    client.events().insert(calendarId="primary", body=body).execute()
    with pytest.raises(HttpError) as error:
        client.events().insert(calendarId="primary", body=body).execute()
    assert (error.value.status_code, reason(error.value)) == (409, "duplicate")
    with pytest.raises(HttpError) as error:
        client.events().insert(calendarId="primary", body={**EVENT, "id": "Not-Base32hex!"}).execute()
    assert error.value.status_code == 400


def test_invalid_bodies_are_400s(client):
    for body in ({"summary": "no times"}, {**EVENT, "end": {"date": "2026-11-24"}},
                 {**EVENT, "end": {"dateTime": "2026-11-23T09:00:00+01:00"}}, {**EVENT, "colorId": "99"}):
        with pytest.raises(HttpError) as error:
            client.events().insert(calendarId="primary", body=body).execute()
        assert error.value.status_code == 400


def test_paging_and_sync_tokens_see_creates_updates_and_deletions(client, google):
    for index in range(7):
        client.events().insert(calendarId="primary", body={**EVENT, "summary": f"E{index}"}).execute()
    pages, request = [], client.events().list(calendarId="primary", maxResults=3)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = client.events().list_next(request, page)
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert all("nextSyncToken" not in page for page in pages[:-1])
    sync_token = pages[-1]["nextSyncToken"]

    first = pages[0]["items"][0]
    client.events().patch(calendarId="primary", eventId=first["id"], body={"summary": "Changed"}).execute()
    client.events().delete(calendarId="primary", eventId=pages[0]["items"][1]["id"]).execute()
    client.events().insert(calendarId="primary", body={**EVENT, "summary": "New"}).execute()
    changes = client.events().list(calendarId="primary", syncToken=sync_token).execute()
    assert sorted((item.get("summary"), item["status"]) for item in changes["items"]) == [
        ("Changed", "confirmed"), ("E1", "cancelled"), ("New", "confirmed")]
    again = client.events().list(calendarId="primary", syncToken=changes["nextSyncToken"]).execute()
    assert again["items"] == []


def test_an_expired_sync_token_is_a_410_and_bad_combinations_a_400(client, google):
    token = client.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as error:
        client.events().list(calendarId="primary", syncToken=token, timeMin="2026-01-01T00:00:00Z").execute()
    assert error.value.status_code == 400
    google.control("POST", "expire-sync-tokens")
    with pytest.raises(HttpError) as error:
        client.events().list(calendarId="primary", syncToken=token).execute()
    assert (error.value.status_code, reason(error.value)) == (410, "fullSyncRequired")
    with pytest.raises(HttpError) as error:
        client.events().list(calendarId="primary", syncToken="garbage").execute()
    assert error.value.status_code == 410


def test_a_revoked_refresh_token_is_invalid_grant(client, google):
    client.calendarList().list().execute()
    google.control("POST", "revoke", {"email": "ada@example.com"})
    with pytest.raises(RefreshError, match="invalid_grant"):
        client.calendarList().list().execute()


def test_a_batch_of_50_inserts_and_a_stale_patch(client, google):
    results = {}

    def collect(request_id, response, exception):
        results[request_id] = (response, exception)

    batch = client.new_batch_http_request(callback=collect)
    assert batch._batch_uri.startswith(google.url)
    for index in range(50):
        batch.add(client.events().insert(calendarId="primary", body={**EVENT, "summary": f"B{index}"}))
    batch.execute()
    assert len(results) == 50
    assert all(exception is None for _, exception in results.values())

    event = next(iter(results.values()))[0]
    batch = client.new_batch_http_request(callback=collect)
    stale = client.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "x"})
    stale.headers["If-Match"] = '"stale"'
    batch.add(stale, request_id="stale")
    batch.add(client.events().delete(calendarId="primary", eventId=event["id"]), request_id="delete")
    batch.execute()
    assert results["stale"][1].status_code == 412
    assert results["delete"] == ("", None)
    assert google.control("GET", "counters")["requests"]["batch_parts"] == 52


def test_paging_through_10000_events_in_pages_of_2500(client, google):
    bodies = [{"summary": f"Event {index}", "start": {"dateTime": f"2026-{1 + index % 12:02d}-{1 + index % 28:02d}"
                                                                  f"T{8 + index % 10:02d}:00:00+01:00"},
               "end": {"dateTime": f"2026-{1 + index % 12:02d}-{1 + index % 28:02d}T{9 + index % 10:02d}:00:00+01:00"}}
              for index in range(10_000)]
    google.control("POST", "calendars/ada@example.com/events", bodies)
    seen, pages, request = set(), 0, client.events().list(calendarId="primary", maxResults=5000)
    while request is not None:
        page = request.execute()
        pages += 1
        seen.update(item["id"] for item in page["items"])
        request = client.events().list_next(request, page)
    assert (pages, len(seen)) == (4, 10_000)  # maxResults is capped at 2500
    assert "nextSyncToken" in page


def test_a_seeded_calendar_has_series_exceptions_all_day_and_dst_edges(client, google):
    google.control("POST", "seed", {"calendar": "ada@example.com", "count": 600, "seed": 3})
    items, request = [], client.events().list(calendarId="primary", maxResults=2500)
    while request is not None:
        page = request.execute()
        items += page["items"]
        request = client.events().list_next(request, page)
    assert len(items) == 600
    masters = [item for item in items if item.get("recurrence")]
    exceptions = [item for item in items if item.get("recurringEventId")]
    assert masters
    assert exceptions
    assert all(any(line.startswith("EXDATE") for line in master["recurrence"]) for master in masters)
    assert {exception["recurringEventId"] for exception in exceptions} <= {master["id"] for master in masters}
    assert any("date" in item["start"] for item in items)
    assert len({item["start"].get("timeZone") for item in items} - {None}) >= 4
    singles = client.events().list(calendarId="primary", singleEvents=True, maxResults=2500).execute()["items"]
    assert len(singles) > len(items)


def test_pages_of_one_listing_neither_shift_nor_repeat_when_events_change_meanwhile(client, google):
    created = [client.events().insert(calendarId="primary", body={**EVENT, "summary": f"E{index}"}).execute()
               for index in range(6)]
    first = client.events().list(calendarId="primary", maxResults=2, orderBy="updated").execute()
    client.events().delete(calendarId="primary", eventId=created[0]["id"]).execute()  # while paging
    client.events().insert(calendarId="primary", body={**EVENT, "summary": "New"}).execute()
    seen, page = [item["summary"] for item in first["items"]], first
    while "nextPageToken" in page:
        page = client.events().list(calendarId="primary", maxResults=2, orderBy="updated",
                                    pageToken=page["nextPageToken"]).execute()
        seen += [item["summary"] for item in page["items"]]
    assert sorted(seen) == [f"E{index}" for index in range(6)]  # the listing as it was when it began


def test_an_edit_as_another_person_is_checked_as_the_api_checks_it(client, google):
    event = client.events().insert(calendarId="primary", body=EVENT).execute()
    url = f"{google.url}/__sandbox__/calendars/ada@example.com/events/{event['id']}"
    request = urllib.request.Request(url, method="PATCH", headers={"Content-Type": "application/json"}, data=json.dumps(
        {"end": {"dateTime": "2026-11-23T09:00:00+01:00"}}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)  # noqa: S310 - the sandbox on loopback
    assert refused.value.code == 400
    assert client.events().get(calendarId="primary", eventId=event["id"]).execute()["etag"] == event["etag"]


@pytest.mark.parametrize("token", ["WzFd", "bm90IGpzb24", "!!"])  # a JSON list, not JSON, not base64
def test_a_page_token_that_is_not_ours_is_a_400(client, token):
    with pytest.raises(HttpError) as refused:
        client.events().list(calendarId="primary", pageToken=token).execute()
    assert refused.value.status_code == 400
