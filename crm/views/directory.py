from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.utils import timezone
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from crm import selectors, services
from crm.forms import CompanyForm, ContactForm


class SearchListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    paginate_by = 30
    search_fields = ()

    def get_queryset(self):
        rows = self.base_queryset()
        query = self.request.GET.get("q", "").strip()
        if query:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": query})
            rows = rows.filter(condition)
        return rows


class CompanyListView(SearchListView):
    template_name = "crm/company_list.html"
    permission_required = "crm.view_company"
    search_fields = ("name", "city", "country", "industry")

    def base_queryset(self):
        return selectors.companies_all().annotate(contact_count=Count("contacts")).order_by("name")


class ContactListView(SearchListView):
    template_name = "crm/contact_list.html"
    permission_required = "crm.view_contact"
    search_fields = ("first_name", "last_name", "email", "company__name", "job_title")

    def base_queryset(self):
        return selectors.contacts_all()


class RelatedActionsMixin:
    """Add the actions about this record that the user may see, upcoming first."""

    related_filter = ""

    def get_context_data(self, **kwargs):
        actions = selectors.actions_visible_to(self.request.user).filter(
            **{self.related_filter: self.object}, series__isnull=True).select_related("action_type", "owner")
        now = timezone.now()
        upcoming = selectors.chronological(actions.filter(Q(span_end__isnull=True) | Q(span_end__gte=now)))[:10]
        past = selectors.chronological(actions.filter(span_end__lt=now)).reverse()[:10]
        return super().get_context_data(**kwargs) | {"upcoming": upcoming, "past": past}


class CompanyDetailView(LoginRequiredMixin, PermissionRequiredMixin, RelatedActionsMixin, DetailView):
    template_name = "crm/company_detail.html"
    permission_required = "crm.view_company"
    related_filter = "company"

    def get_queryset(self):
        return selectors.companies_all()


class ContactDetailView(LoginRequiredMixin, PermissionRequiredMixin, RelatedActionsMixin, DetailView):
    template_name = "crm/contact_detail.html"
    permission_required = "crm.view_contact"
    related_filter = "contacts"

    def get_queryset(self):
        return selectors.contacts_all()


class SavedThroughServiceMixin:
    """Save the form's record with the service instead of ModelForm.save()."""

    service = None
    record_argument = ""

    def form_valid(self, form):
        self.object = self.service(**{self.record_argument: form.instance})
        return redirect(self.object_url())


class CompanyCreateView(LoginRequiredMixin, PermissionRequiredMixin, SavedThroughServiceMixin, CreateView):
    template_name = "crm/record_form.html"
    form_class = CompanyForm
    permission_required = "crm.add_company"
    service, record_argument = staticmethod(services.company_save), "company"

    def object_url(self):
        return self.object.get_absolute_url()


class CompanyUpdateView(CompanyCreateView, UpdateView):
    permission_required = "crm.change_company"

    def get_queryset(self):
        return selectors.companies_all()


class ContactCreateView(LoginRequiredMixin, PermissionRequiredMixin, SavedThroughServiceMixin, CreateView):
    template_name = "crm/record_form.html"
    form_class = ContactForm
    permission_required = "crm.add_contact"
    service, record_argument = staticmethod(services.contact_save), "contact"

    def get_initial(self):
        company = self.request.GET.get("company", "")
        return {"company": int(company)} if company.isdigit() else {}

    def object_url(self):
        return self.object.get_absolute_url()


class ContactUpdateView(ContactCreateView, UpdateView):
    permission_required = "crm.change_contact"

    def get_queryset(self):
        return selectors.contacts_all()
