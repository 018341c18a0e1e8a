from datetime import date

from django.core.management import call_command

from crm.models import Action, Company, Contact, User


def test_demo_is_believable_and_loads_once(db, capsys):
    call_command("load_demo")
    users = {user.username: user for user in User.objects.select_related("profile")}
    assert {users[name].profile.name for name in ("marc", "alice", "dana", "tom")} == {"Manager", "Sales",
                                                                                       "Technician"}
    assert len({users[name].time_zone for name in ("marc", "alice", "dana", "tom")}) == 3
    assert users["admin"].is_superuser
    assert Company.objects.count() == 8
    assert Contact.objects.count() >= 10
    series = Action.objects.exclude(rrule="")
    assert series.count() >= 3
    assert any(action.exdates for action in series)
    assert Action.objects.filter(series__isnull=False).exists()
    assert Action.objects.filter(all_day=True).exists()
    assert Action.objects.filter(series__isnull=True, rrule="").count() > 30
    assert "alice / demo" in capsys.readouterr().out

    count = Action.objects.count()
    call_command("load_demo")
    assert Action.objects.count() == count
    assert "already loaded" in capsys.readouterr().out


def test_demo_spans_a_month_around_the_given_day(db):
    from crm import demo

    demo.demo_load(today=date(2027, 3, 10))
    starts = [action.first_occurrence()[0] for action in Action.objects.filter(rrule="", series__isnull=True)]
    days = sorted(start if isinstance(start, date) and not hasattr(start, "hour") else start.date()
                  for start in starts)
    assert days[0] >= date(2027, 3, 1)
    assert days[-1] < date(2027, 4, 6)


def test_install_defaults_is_repeatable(db):
    from crm.models import ActionType, Profile

    call_command("install_defaults")
    call_command("install_defaults")
    assert set(Profile.objects.values_list("name", flat=True)) == {"Sales", "Technician", "Manager"}
    assert ActionType.objects.filter(is_appointment=True).count() == 1
    assert Profile.objects.get(name="Manager").permissions.filter(codename="view_all_actions").exists()
