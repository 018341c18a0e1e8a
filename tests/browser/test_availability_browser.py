"""Availability clicked through in Chromium: the form's warning before saving and Find a time, a drag onto a
busy time, colleagues over the agenda, the free/busy grid."""

import pytest
from playwright.sync_api import expect

from crm.models import Action
from tests import factories
from tests.factories import local

pytestmark = pytest.mark.browser


@pytest.fixture
def bobs_dentist(bob):
    return factories.appointment(bob, "2026-11-24 10:00", "2026-11-24 11:00", subject="Dentist", zone="Europe/Paris")


def test_the_form_warns_before_saving_and_finds_a_free_time(signed_in, alice, bob, bobs_dentist, appointment_type,
                                                            screenshot):
    page = signed_in(alice)
    page.goto("/actions/new/?start=2026-11-24T10:30")
    page.fill("#id_subject", "Kick-off")
    warning = page.locator("[data-overlaps]")
    expect(warning).to_be_hidden()  # Alice alone is free then
    page.select_option("#id_participants", str(bob.pk))
    expect(warning).to_contain_text("Bob is busy Tue 24 Nov 10:00–11:00.")
    assert not Action.objects.filter(subject="Kick-off").exists()  # said before anything is saved
    screenshot("appointment-form-overlap")

    page.click("button:has-text('Find a time')")
    first = page.locator("[data-found-times] button").first
    expect(first).to_be_visible()
    screenshot("appointment-form-find-a-time")
    first.click()
    expect(warning).to_be_hidden()
    chosen = page.locator("#id_start_time").input_value()
    page.click("button:has-text('Save')")
    expect(page.locator(".message").first).to_contain_text("Kick-off")
    saved = Action.objects.get(subject="Kick-off")
    assert saved.start.astimezone(local("2026-11-24 00:00").tzinfo).strftime("%H:%M") == chosen


def test_a_drag_onto_a_busy_time_says_so_and_moves_only_if_wanted(signed_in, alice, bob, appointment_type):
    factories.appointment(alice, "2026-11-27 15:00", "2026-11-27 16:00", subject="Client call")
    visit = factories.appointment(alice, "2026-11-24 10:00", "2026-11-24 11:00", subject="Visit", participants=[bob])
    page = signed_in(alice)
    page.goto("/agenda/?date=2026-11-23")
    said = []

    def drag_to_friday_at_three():
        box = page.locator(".event", has_text="Visit").bounding_box()
        column = page.locator('.tg-col[data-date="2026-11-27"]').bounding_box()
        page.mouse.move(box["x"] + 10, box["y"] + 5)
        page.mouse.down()
        page.mouse.move(column["x"] + 20, column["y"] + 15 * 48 + 5, steps=8)
        page.mouse.up()

    page.once("dialog", lambda dialog: (said.append(dialog.message), dialog.dismiss()))
    drag_to_friday_at_three()
    for _ in range(100):  # the check's answer comes before the dialog
        if said:
            break
        page.wait_for_timeout(100)
    assert said, "no dialog said what the new time meets"
    assert "Alice is busy Fri 27 Nov 15:00–16:00 (Client call)." in said[0]
    visit.refresh_from_db()
    assert visit.start == local("2026-11-24 10:00")  # dismissed: not moved

    page.once("dialog", lambda dialog: dialog.accept())
    drag_to_friday_at_three()
    expect(page.locator('.tg-col[data-date="2026-11-27"] .event', has_text="Visit")).to_have_count(1)
    visit.refresh_from_db()
    assert visit.start == local("2026-11-27 15:00")


def test_colleagues_over_the_agenda_and_in_the_grid(signed_in, alice, bob, bobs_dentist, screenshot):
    factories.appointment(alice, "2026-11-24 14:00", subject="Review", participants=[bob])
    page = signed_in(alice)
    page.goto("/agenda/?date=2026-11-23")
    page.click("summary:has-text(\"Colleagues' availability\")")
    page.check(f"input[name=overlay][value='{bob.pk}']")
    page.click("button:has-text('Show their busy times')")
    tuesday = page.locator('.tg-col[data-date="2026-11-24"] .overlay-block')
    expect(tuesday).to_have_count(2)
    expect(page.locator(".overlay-legend")).to_contain_text("Bob")
    screenshot("agenda-colleague-overlay")

    page.click("text=Compare in a grid")
    expect(page.locator(".fb-row")).to_have_count(1)
    page.check(f"input[name=people][value='{alice.pk}']")
    page.click("button:has-text('Show')")
    expect(page.locator(".fb-row")).to_have_count(2)
    expect(page.locator(f'.fb-row[data-person="{bob.pk}"] .fb-busy')).to_have_count(2)
    screenshot("availability-grid")
