from crm.models import Company, Contact
from tests import factories


def test_directory_pages(client, alice, appointment_type):
    company = factories.company("Nordlicht", city="Hamburg")
    contact = factories.contact("Fischer", first_name="Lena", company=company)
    factories.appointment(alice, "2030-01-10 10:00", subject="Visit Nordlicht", company=company).contacts.set(
        [contact])
    client.force_login(alice)
    assert b"Nordlicht" in client.get("/companies/", {"q": "hamb"}).content
    assert client.get("/companies/", {"q": "nowhere"}).context["page_obj"].paginator.count == 0
    assert b"Visit Nordlicht" in client.get(f"/companies/{company.pk}/").content
    assert b"Lena Fischer" in client.get("/contacts/").content
    assert b"Visit Nordlicht" in client.get(f"/contacts/{contact.pk}/").content


def test_create_and_edit_through_forms(client, alice):
    client.force_login(alice)
    response = client.post("/companies/new/", {"name": "Atelier", "website": "atelier.example"})
    company = Company.objects.get()
    assert response["Location"] == f"/companies/{company.pk}/"
    assert company.website == "https://atelier.example"
    client.post(f"/companies/{company.pk}/edit/", {"name": "Atelier Vasseur"})
    assert Company.objects.get().name == "Atelier Vasseur"
    client.post("/contacts/new/", {"last_name": "Vasseur", "company": company.pk})
    assert Contact.objects.get().company == company
    assert client.post("/contacts/new/", {"last_name": "", "email": "bad"}).status_code == 200


def test_technicians_read_but_do_not_edit(client, db):
    client.force_login(factories.user("tom", profile=factories.profile("Technician")))
    assert client.get("/companies/").status_code == 200
    assert client.get("/companies/new/").status_code == 403


def test_preferences_change_the_time_zone(client, alice):
    client.force_login(alice)
    client.post("/preferences/", {"first_name": "Alice", "last_name": "M", "time_zone": "Asia/Tokyo",
                                   "work_days": "12345", "work_start": "09:00", "work_end": "17:00"})
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"


def test_preferences_set_the_working_hours_find_a_time_keeps_to(client, alice):
    client.force_login(alice)
    answer = client.post("/preferences/", {"first_name": "Alice", "time_zone": "Europe/Paris", "work_days": "2345",
                                            "work_start": "10:00", "work_end": "09:00"})
    assert "The working day must end after it starts." in answer.content.decode()
    client.post("/preferences/", {"first_name": "Alice", "time_zone": "Europe/Paris", "work_days": "2345",
                                  "work_start": "10:00", "work_end": "18:30"})
    alice.refresh_from_db()
    assert (alice.work_days, f"{alice.work_start:%H:%M}", f"{alice.work_end:%H:%M}") == ("2345", "10:00", "18:30")
