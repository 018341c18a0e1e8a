"""A believable demo: people in several profiles and time zones, companies, contacts, and a month
of appointments around today, with recurring series and their exceptions. Built through the
services, as a real user's data would be."""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from crm import defaults, recurrence, services
from crm.models import ActionStatus, ActionType, Company, Contact, User

DEMO_PASSWORD = "demo"

# username, first name, last name, profile, time zone, job title
PEOPLE = [
    ("marc", "Marc", "Dubois", "Manager", "Europe/Paris", "Sales director"),
    ("alice", "Alice", "Martin", "Sales", "Europe/Paris", "Account executive"),
    ("dana", "Dana", "Smith", "Sales", "America/New_York", "Account executive, North America"),
    ("tom", "Tom", "Becker", "Technician", "Europe/Berlin", "Field technician"),
]

# name, city, country, industry, contacts (first, last, job title)
COMPANIES = [
    ("Boulangeries Lefèvre", "Lyon", "France", "Food retail",
     [("Claire", "Lefèvre", "CEO"), ("Hugo", "Morel", "Purchasing manager")]),
    ("Nordlicht Logistik", "Hamburg", "Germany", "Logistics",
     [("Jonas", "Weber", "Operations lead"), ("Lena", "Fischer", "IT manager")]),
    ("Atelier Vasseur", "Paris", "France", "Architecture",
     [("Sophie", "Vasseur", "Founder")]),
    ("Harbor & Pine Realty", "Boston", "United States", "Real estate",
     [("Michael", "Brennan", "Managing broker"), ("Olivia", "Chen", "Office manager")]),
    ("Clinique du Parc", "Bordeaux", "France", "Healthcare",
     [("Nadia", "Benali", "Administrator"), ("Paul", "Girard", "Head of facilities")]),
    ("Greenfield Farms Co-op", "Madison", "United States", "Agriculture",
     [("Ethan", "Walker", "Chair of the board")]),
    ("Studio Kappa", "Milan", "Italy", "Design",
     [("Giulia", "Ferri", "Art director"), ("Marco", "Conti", "Producer")]),
    ("Hôtel des Voyageurs", "Annecy", "France", "Hospitality",
     [("Isabelle", "Roux", "General manager")]),
]

TOPICS = ["Discovery meeting", "Product demo", "Contract review", "Quarterly business review",
          "Pricing discussion", "Site visit", "Onboarding session", "Renewal meeting"]


def demo_is_loaded() -> bool:
    return User.objects.filter(username="marc").exists()


@transaction.atomic
def demo_load(today: date | None = None) -> list[User]:
    """Create the demo data and return the demo users. Call on an empty database."""
    defaults.action_types_install()
    profiles = {name: defaults.profile_install(name) for name in defaults.PROFILES}
    types = {action_type.code: action_type for action_type in ActionType.objects.all()}
    people = {
        username: User.objects.create_user(
            username=username, password=DEMO_PASSWORD, first_name=first, last_name=last,
            email=f"{username}@demo.example", profile=profiles[profile], time_zone=zone, job_title=title,
        )
        for username, first, last, profile, zone, title in PEOPLE
    }
    User.objects.create_superuser(username="admin", password="admin", email="admin@demo.example",
                                  first_name="Admin", time_zone="Europe/Paris")
    people["tom"].work_start, people["tom"].work_end = time(7, 30), time(16)  # a technician's day starts early
    people["tom"].save(update_fields=["work_start", "work_end"])
    companies = _directory(people)
    _appointments(people, companies, types, today or timezone.localdate())
    return list(people.values())


def _directory(people):
    companies = []
    for name, city, country, industry, contacts in COMPANIES:
        manager = people["dana"] if country == "United States" else people["alice"]
        company = Company.objects.create(
            name=name, city=city, country=country, industry=industry, account_manager=manager,
            website=f"https://www.{_slug(name)}.example", phone="+33 1 23 45 67 89",
        )
        for first, last, title in contacts:
            Contact.objects.create(
                first_name=first, last_name=last, job_title=title, company=company,
                email=f"{first.lower()}.{_slug(last)}@{_slug(name)}.example", phone="+33 6 12 34 56 78",
            )
        companies.append(company)
    return companies


def _appointments(people, companies, types, today):
    rng = random.Random(2026)
    monday = today - timedelta(days=today.weekday())
    first_day, last_day = monday - timedelta(days=7), monday + timedelta(days=28)
    marc, alice, dana, tom = (people[name] for name in ("marc", "alice", "dana", "tom"))

    # A weekly team meeting, with one week cancelled and one moved to Tuesday afternoon.
    team = _timed(marc, types["appointment"], "Sales team meeting", first_day, time(9, 30), 60,
                  rrule="FREQ=WEEKLY;BYDAY=MO", location="Room Rivoli",
                  description="Pipeline review, wins and blockers of the week.")
    team.participants.set([alice, dana, tom])
    week_two, week_three = _key(team, first_day + timedelta(days=14)), _key(team, first_day + timedelta(days=21))
    services.occurrence_cancel(series=team, recurrence_id=week_two)
    services.action_move(action=team, recurrence_id=week_three,
                         start=_at(marc, first_day + timedelta(days=22), time(14, 0)))

    # A daily stand-up for the technician, on weekdays, for five weeks.
    _timed(tom, types["appointment"], "Dispatch stand-up", first_day, time(8, 45), 15,
           rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=25", location="Phone bridge")

    # A monthly review with a key account (second Tuesday), with its own room.
    review = _timed(alice, types["appointment"], "Monthly review — Nordlicht Logistik", first_day,
                    time(15, 0), 90, rrule="FREQ=MONTHLY;BYDAY=2TU", company=companies[1],
                    location="Video call")
    review.contacts.set(companies[1].contacts.all())

    # A two-day trade fair, all day.
    services.action_create(
        owner=alice, action_type=types["appointment"], subject="Salon Franchise Expo", all_day=True,
        start_date=monday + timedelta(days=10), end_date=monday + timedelta(days=12),
        time_zone=alice.time_zone, location="Paris Expo, Porte de Versailles", participants=[marc],
    )

    # One-off appointments, calls and tasks spread over the month, in working hours.
    day = first_day
    while day < last_day:
        if day.weekday() < 5:
            for owner in (marc, alice, dana, tom):
                _one_off(rng, owner, day, companies, types, today)
        day += timedelta(days=1)


def _one_off(rng, owner, day, companies, types, today):
    if rng.random() < 0.35:
        return
    technician = owner.username == "tom"
    american = owner.username == "dana"
    company = rng.choice([c for c in companies if (c.country == "United States") == american])
    contact = rng.choice(list(company.contacts.all()))
    kind = "intervention" if technician and rng.random() < 0.6 else rng.choice(
        ["appointment", "appointment", "call", "task"])
    subject = {
        "appointment": f"{rng.choice(TOPICS)} — {company.name}",
        "call": f"Call {contact.first_name} {contact.last_name}",
        "task": f"Send proposal to {company.name}",
        "intervention": f"Maintenance visit — {company.name}",
    }[kind]
    start = time(rng.choice([9, 10, 11, 14, 15, 16]), rng.choice([0, 30]))
    action = _timed(owner, types[kind], subject, day, start, types[kind].default_duration,
                    company=company, location=company.city if kind in ("appointment", "intervention") else "",
                    status=ActionStatus.DONE if day < today else ActionStatus.PLANNED)
    action.contacts.set([contact])


def _timed(owner, action_type, subject, day, start, minutes, **fields):
    begin = _at(owner, day, start)
    return services.action_create(
        owner=owner, action_type=action_type, subject=subject, start=begin,
        end=begin + timedelta(minutes=minutes), time_zone=owner.time_zone, **fields,
    )


def _at(user, day, at):
    return datetime.combine(day, at, ZoneInfo(user.time_zone))


def _key(series, day):
    return recurrence.occurrence_key(datetime.combine(day, series.first_occurrence()[0].timetz()))


def _slug(text):
    return "".join(ch for ch in text.lower() if ch.isalnum())[:20]
