from tests import factories


def test_sales_edit_the_directory_technicians_only_read_it(api, api_as, db):
    company = factories.company("Nordlicht")
    response = api.post("/api/v1/contacts/", {"first_name": "Lena", "last_name": "Fischer",
                                              "company": company.pk, "email": "lena@example.com"})
    assert response.status_code == 201, response.json()
    assert api.get("/api/v1/contacts/", {"company": company.pk}).json()["count"] == 1
    assert api.patch(f"/api/v1/companies/{company.pk}/", {"city": "Hamburg"}).json()["city"] == "Hamburg"
    assert api.delete(f"/api/v1/companies/{company.pk}/").status_code == 403  # only managers delete

    technician = api_as(factories.user("tom", profile=factories.profile("Technician")))
    assert technician.get("/api/v1/companies/").status_code == 200
    assert technician.post("/api/v1/companies/", {"name": "New"}).status_code == 403


def test_invalid_directory_input_is_a_400(api, db):
    response = api.post("/api/v1/contacts/", {"first_name": "No last name", "email": "not-an-email"})
    assert response.status_code == 400
    assert {"last_name", "email"} <= response.json().keys()
    assert api.post("/api/v1/companies/", {"name": "X", "account_manager": 999}).status_code == 400


def test_directory_lists_do_not_grow_queries_with_rows(api, query_count, db):
    def add(count, prefix):
        for index in range(count):
            factories.contact(f"{prefix} {index}", company=factories.company(f"{prefix} {index}"))

    add(3, "Few")
    few = query_count(api, "/api/v1/contacts/"), query_count(api, "/api/v1/companies/")
    add(30, "Many")
    assert (query_count(api, "/api/v1/contacts/"), query_count(api, "/api/v1/companies/")) == few


def test_me_shows_profile_and_permissions_and_takes_a_time_zone(api, alice):
    me = api.get("/api/v1/me/").json()
    assert me["profile"] == "Sales"
    assert "crm.add_action" in me["permissions"]
    assert api.patch("/api/v1/me/", {"time_zone": "Asia/Tokyo"}).json()["time_zone"] == "Asia/Tokyo"
    assert "time_zone" in api.patch("/api/v1/me/", {"time_zone": "Tokyo"}).json()


def test_action_types_list(api, db):
    codes = [row["code"] for row in api.get("/api/v1/action-types/").json()]
    assert codes == ["appointment", "call", "task", "email", "intervention"]


def test_token_can_be_revoked(api, alice):
    assert api.delete("/api/v1/auth/token/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401


def test_wrong_password_gets_a_400(client, alice):
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/actions/{id}/occurrences/{recurrence_id}/" in schema.content
    assert client.get("/api/v1/docs/").status_code == 200
