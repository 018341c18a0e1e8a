import django_filters

from crm.models import Action, ActionStatus, Company, Contact


class ActionFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="action_type__code", help_text="Action type code, e.g. call.")
    status = django_filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    is_appointment = django_filters.BooleanFilter(field_name="action_type__is_appointment")
    contact = django_filters.NumberFilter(field_name="contacts", distinct=True)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only actions changed at or after this instant."
    )

    class Meta:
        model = Action
        fields = ["action_type", "type", "status", "owner", "company", "contact", "is_appointment",
                  "updated_since"]


class CompanyFilter(django_filters.FilterSet):
    class Meta:
        model = Company
        fields = ["country", "city", "industry", "account_manager"]


class ContactFilter(django_filters.FilterSet):
    class Meta:
        model = Contact
        fields = ["company"]
