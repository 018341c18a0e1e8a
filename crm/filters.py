"""Filters over actions, companies and contacts, shared by the API and the pages."""

import django_filters
from django.db.models import Q

from crm import selectors
from crm.models import Action, ActionStatus, Company, Contact
from crm.validators import validate_agenda_year

# What a free-text search looks at, the same in the API (?search=) and on the pages (?q=).
ACTION_SEARCH = ("subject", "location", "description", "company__name")
COMPANY_SEARCH = ("name", "city", "country", "industry", "email")
CONTACT_SEARCH = ("first_name", "last_name", "email", "company__name", "job_title")


def matching(rows, fields, text):
    """The rows where any of `fields` contains `text`, ignoring case."""
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": text})
    return rows.filter(condition)


class ActionFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="action_type__code", help_text="Action type code, e.g. call.")
    status = django_filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    is_appointment = django_filters.BooleanFilter(field_name="action_type__is_appointment")
    contact = django_filters.ModelChoiceFilter(field_name="contacts", queryset=Contact.objects.all(), distinct=True)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", validators=[validate_agenda_year],
        help_text="Only actions changed at or after this instant.",
    )

    class Meta:
        model = Action
        fields = ["action_type", "type", "status", "owner", "company", "contact", "is_appointment",
                  "updated_since"]


class ActionPageFilter(ActionFilter):
    """The action list page: the API's filters, a free-text search and a period."""

    q = django_filters.CharFilter(method="search")
    period = django_filters.ChoiceFilter(
        choices=[("upcoming", "Upcoming"), ("past", "Past"), ("all", "All dates")], method="in_period",
        empty_label=None,
    )

    def search(self, actions, name, value):
        return matching(actions, ACTION_SEARCH, value)

    def in_period(self, actions, name, value):
        return selectors.actions_in_period(actions, value)


class CompanyFilter(django_filters.FilterSet):
    class Meta:
        model = Company
        fields = ["country", "city", "industry", "account_manager"]


class ContactFilter(django_filters.FilterSet):
    class Meta:
        model = Contact
        fields = ["company"]
