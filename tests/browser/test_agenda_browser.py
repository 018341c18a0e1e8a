"""The agenda and the appointment form, clicked through in Chromium as a person would."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from crm import services
from crm.models import Action
from tests import factories
from tests.factories import local

pytestmark = pytest.mark.browser


@pytest.fixture
def alices_week(alice, appointment_type, call_type):
    """A week of Alice's with a daily stand-up, a client visit, a call and an all-day fair."""
    series = factories.appointment(alice, "2026-11-23 09:00", "2026-11-23 09:30", subject="Stand-up",
                                   rrule="FREQ=DAILY;COUNT=5", location="Room 2")
    factories.appointment(alice, "2026-11-24 10:00", "2026-11-24 11:30", subject="Visit Nordlicht",
                          location="Hamburg")
    factories.appointment(alice, "2026-11-24 10:30", "2026-11-24 11:00", subject="Call Lena", action_type=call_type)
    services.action_create(owner=alice, action_type=appointment_type, subject="Trade fair", all_day=True,
                           start_date=date(2026, 11, 26), end_date=date(2026, 11, 28), time_zone="Europe/Paris")
    return series


def test_sign_in_and_browse_the_agenda(page, alice, alices_week, screenshot):
    page.goto("/agenda/?date=2026-11-23")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button[type=submit]")
    expect(page.locator(".agenda-title")).to_have_text("23 – 29 November 2026")

    stand_ups = page.locator(".tg-col .event", has_text="Stand-up")
    expect(stand_ups).to_have_count(5)
    monday = page.locator('.tg-col[data-date="2026-11-23"]')
    expect(monday.locator(".event")).to_contain_text("09:00")
    # Two overlapping appointments share the Tuesday column side by side.
    tuesday = page.locator('.tg-col[data-date="2026-11-24"] .event')
    visit, call = (tuesday.filter(has_text=name).bounding_box() for name in ("Visit Nordlicht", "Call Lena"))
    assert visit["x"] + visit["width"] <= call["x"] + 1
    expect(page.locator('.tg-allday-cell[data-date="2026-11-27"]')).to_contain_text("Trade fair")
    screenshot("agenda-week")

    page.click("text=Month")
    expect(page.locator(".agenda-title")).to_have_text("November 2026")
    expect(page.locator('.month-day[data-date="2026-11-25"]')).to_contain_text("Stand-up")
    screenshot("agenda-month")
    page.click("[aria-label=Next]")
    expect(page.locator(".agenda-title")).to_have_text("December 2026")
    page.click("[aria-label=Previous]")
    page.locator('.month-day[data-date="2026-11-24"] .day-number').click()
    expect(page.locator(".agenda-title")).to_have_text("Tuesday 24 November 2026")
    expect(page.locator(".tg-col .event")).to_have_count(3)


def test_create_a_recurring_appointment_with_the_form(signed_in, alice, appointment_type, screenshot):
    page = signed_in(alice)
    page.goto("/agenda/?date=2026-11-23")
    page.locator('.tg-col[data-date="2026-11-24"]').click(position={"x": 40, "y": 14 * 48 + 5})
    expect(page).to_have_url(re.compile(r"/actions/new/\?start=2026-11-24T14%3A00"))
    expect(page.locator("#id_start_time")).to_have_value("14:00")

    page.fill("#id_subject", "Weekly pipeline review")
    page.fill("#id_location", "Room Rivoli")
    expect(page.locator("[data-field=weekdays]")).to_be_hidden()
    page.select_option("#id_repeat", "WEEKLY")
    expect(page.locator("[data-field=weekdays]")).to_be_visible()
    page.check("input[name=weekdays][value=TU]")
    page.check("input[name=weekdays][value=TH]")
    page.check("input[name=ends][value=count]")
    page.fill("#id_count", "6")
    page.check("#id_all_day")
    expect(page.locator("#id_start_time")).to_be_hidden()
    page.uncheck("#id_all_day")
    expect(page.locator("#id_start_time")).to_be_visible()
    screenshot("appointment-form")
    page.click("button:has-text('Save')")

    expect(page.locator(".message")).to_contain_text("Weekly pipeline review")
    expect(page.locator(".tg-col .event", has_text="Weekly pipeline review")).to_have_count(2)  # Tue and Thu
    action = Action.objects.get(subject="Weekly pipeline review")
    assert action.rrule == "FREQ=WEEKLY;COUNT=6;BYDAY=TU,TH"
    assert (action.start, action.end) == (local("2026-11-24 14:00"), local("2026-11-24 15:00"))


def test_a_form_error_is_shown_and_nothing_is_saved(signed_in, alice, appointment_type):
    page = signed_in(alice)
    page.goto("/actions/new/?start=2026-11-24T14:00")
    page.fill("#id_subject", "Backwards")
    page.fill("#id_end_time", "13:00")
    page.click("button:has-text('Save')")
    expect(page.locator("[data-field=end_time] .error")).to_contain_text("must not be before the start")
    assert not Action.objects.exists()


def test_edit_and_cancel_one_occurrence(signed_in, alice, alices_week):
    page = signed_in(alice)
    page.goto("/agenda/?date=2026-11-23")
    page.locator('.tg-col[data-date="2026-11-25"] .event', has_text="Stand-up").click()
    expect(page.locator("h1")).to_contain_text("Stand-up")
    expect(page.locator(".facts")).to_contain_text("Every day, 5 times")
    page.click("text=Edit this occurrence")
    page.fill("#id_subject", "Stand-up with the CEO")
    page.fill("#id_start_time", "11:00")
    page.fill("#id_end_time", "11:30")
    page.click("button:has-text('Save')")
    expect(page.locator('.tg-col[data-date="2026-11-25"] .event')).to_contain_text("Stand-up with the CEO")
    expect(page.locator(".tg-col .event", has_text="Stand-up with the CEO")).to_have_count(1)

    page.locator('.tg-col[data-date="2026-11-26"] .event', has_text="Stand-up").click()
    page.click("text=Delete…")
    page.click("text=Delete only this occurrence")
    expect(page.locator(".message")).to_contain_text("cancelled")
    expect(page.locator(".tg-col .event", has_text="Stand-up")).to_have_count(4)
    alices_week.refresh_from_db()
    assert alices_week.exdates == ["20261126T080000Z"]


def test_drag_an_appointment_to_another_day_and_time(signed_in, alice, alices_week):
    page = signed_in(alice)
    page.goto("/agenda/?date=2026-11-23")
    said = []
    page.once("dialog", lambda dialog: (said.append(dialog.message), dialog.accept()))  # Friday is the fair's
    visit = page.locator(".event", has_text="Visit Nordlicht")
    friday = page.locator('.tg-col[data-date="2026-11-27"]')
    grab = visit.bounding_box()
    column = friday.bounding_box()
    page.mouse.move(grab["x"] + 10, grab["y"] + 5)
    page.mouse.down()
    page.mouse.move(column["x"] + 20, column["y"] + 15 * 48 + 5, steps=8)
    page.mouse.up()
    expect(page.locator('.tg-col[data-date="2026-11-27"] .event', has_text="Visit Nordlicht")).to_have_count(1)
    moved = Action.objects.get(subject="Visit Nordlicht")
    assert (moved.start, moved.end) == (local("2026-11-27 15:00"), local("2026-11-27 16:30"))
    assert "Alice is busy all day Thu 26 Nov – Fri 27 Nov (Trade fair)." in said[0]  # asked before moving
