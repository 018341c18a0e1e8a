from datetime import date, datetime, time, timedelta

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils import timezone
from django.views.generic import TemplateView

from crm import selectors
from crm.availability import selectors as availability
from crm.signals import agenda_opened
from crm.views import agenda_layout
from crm.views.params import parse_moment

VIEWS = ("day", "week", "month")


class AgendaView(LoginRequiredMixin, TemplateView):
    """Day, week and month views of the user's agenda (or, by profile, a colleague's or everyone's)."""

    template_name = "crm/agenda.html"

    def get_context_data(self, **kwargs):
        zone = timezone.get_current_timezone()
        view = self.request.GET.get("view") if self.request.GET.get("view") in VIEWS else "week"
        anchor = _parse_date(self.request.GET.get("date")) or timezone.localdate()
        first_day, last_day = _window(view, anchor)
        agenda_opened.send(sender=self.__class__, user=self.request.user)  # external calendars may refresh (G5)
        who, actions, people = self._whose_agenda()
        occurrences = selectors.occurrences_between(
            actions=actions.select_related("action_type", "owner", "company"),
            start=datetime.combine(first_day, time.min, zone),
            end=datetime.combine(last_day, time.min, zone), zone=zone,
        )
        days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days)]
        context = super().get_context_data(**kwargs) | {
            "view": view, "anchor": anchor, "today": timezone.localdate(), "who": who, "people": people,
            "previous": _step(view, anchor, -1), "next": _step(view, anchor, 1), "title": _title(view, anchor, days),
            "show_owner": who != "me", "zone_name": str(zone), "hours": [time(hour) for hour in range(24)],
        }
        if view == "month":
            context["weeks"] = agenda_layout.month_weeks(occurrences, first_day, last_day, zone)
            context["weekday_names"] = [day.strftime("%a") for day in days[:7]]
        else:
            context["columns"] = agenda_layout.day_columns(occurrences, days, zone)
            context |= self._overlay(context["columns"], first_day, last_day, zone,
                                     people or list(selectors.users_active()))
        return context

    def _overlay(self, columns, first_day, last_day, zone, everyone):
        """Chosen colleagues' busy times behind the agenda's blocks, one color each, details where allowed."""
        chosen_ids = set(self.request.GET.getlist("overlay"))
        chosen = [person for person in everyone if str(person.pk) in chosen_ids]
        legend, blocks = [], []
        if chosen:
            start, end = datetime.combine(first_day, time.min, zone), datetime.combine(last_day, time.min, zone)
            for index, person in enumerate(availability.availability(viewer=self.request.user, people=chosen,
                                                                     start=start, end=end)):
                color = agenda_layout.PERSON_COLORS[index % len(agenda_layout.PERSON_COLORS)]
                legend.append({"person": person.user, "color": color, "unknown": person.unknown})
                blocks += [(color, f"{person.user}: {availability.span_text(item.start, item.end, zone)}"
                                   f"{' · ' + item.subject if item.subject else ''}", item.start, item.end)
                           for item in person.busy]
            agenda_layout.add_overlay(columns, blocks, zone)
        return {"overlay_people": [person for person in everyone if person != self.request.user],
                "overlay_ids": chosen_ids, "overlay_legend": legend,
                "overlay_pending": any(answer.state == "pending" for item in legend for answer in item["unknown"])}

    def _whose_agenda(self):
        user = self.request.user
        if not user.has_perm("crm.view_all_actions"):
            return "me", selectors.actions_involving(user), []
        people = list(selectors.users_active())
        who = self.request.GET.get("who", "me")
        if who == "all":
            return who, selectors.actions_visible_to(user), people
        chosen = next((person for person in people if str(person.pk) == who), None)
        if chosen is None:
            return "me", selectors.actions_involving(user), people
        return who, selectors.actions_involving(chosen), people


def _parse_date(text):
    day = parse_moment(text or "", timezone.get_current_timezone())
    return day if isinstance(day, date) and not isinstance(day, datetime) else None


def _window(view, anchor):
    if view == "day":
        return anchor, anchor + timedelta(days=1)
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=7)
    first_of_month = anchor.replace(day=1)
    first_of_next = (first_of_month + timedelta(days=32)).replace(day=1)
    grid_start = first_of_month - timedelta(days=first_of_month.weekday())
    grid_end = first_of_next + timedelta(days=(7 - first_of_next.weekday()) % 7)
    return grid_start, grid_end


def _step(view, anchor, direction):
    if view == "day":
        return anchor + timedelta(days=direction)
    if view == "week":
        return anchor + timedelta(days=7 * direction)
    month_index = anchor.year * 12 + anchor.month - 1 + direction
    return date(month_index // 12, month_index % 12 + 1, 1)


def _title(view, anchor, days):
    if view == "day":
        return anchor.strftime("%A %d %B %Y")
    if view == "month":
        return anchor.strftime("%B %Y")
    first, last = days[0], days[-1]
    if first.month == last.month:
        return f"{first:%d} – {last:%d %B %Y}"
    return f"{first:%d %b} – {last:%d %b %Y}"
