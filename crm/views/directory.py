from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Count
from django.shortcuts import redirect
from django.views.generic import DetailView, ListView, UpdateView

from crm import selectors, services
from crm.filters import COMPANY_SEARCH, CONTACT_SEARCH, matching
from crm.forms import CompanyForm, ContactForm
from crm.views.params import id_param


class SearchListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    paginate_by = 30
    search_fields = ()

    def get_queryset(self):
        rows = self.base_queryset()
        query = self.request.GET.get("q", "").strip()
        return matching(rows, self.search_fields, query) if query else rows


class CompanyListView(SearchListView):
    template_name = "crm/company_list.html"
    permission_required = "crm.view_company"
    search_fields = COMPANY_SEARCH

    def base_queryset(self):
        return selectors.companies_all().annotate(contact_count=Count("contacts")).order_by("name")


class ContactListView(SearchListView):
    template_name = "crm/contact_list.html"
    permission_required = "crm.view_contact"
    search_fields = CONTACT_SEARCH

    def base_queryset(self):
        return selectors.contacts_all()


class RelatedActionsMixin:
    """Add the actions about this record that the user may see, upcoming first."""

    related_filter = ""

    def get_context_data(self, **kwargs):
        actions = selectors.actions_visible_to(self.request.user).filter(
            **{self.related_filter: self.object}, series__isnull=True).select_related("action_type", "owner")
        return super().get_context_data(**kwargs) | {
            "upcoming": selectors.actions_in_period(actions, "upcoming")[:10],
            "past": selectors.actions_in_period(actions, "past")[:10],
        }


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


class RecordFormView(LoginRequiredMixin, PermissionRequiredMixin, UpdateView):
    """Create (no pk) or edit a company or contact; the service saves it."""

    template_name = "crm/record_form.html"

    @property
    def model_name(self):
        return self.form_class._meta.model._meta.model_name

    def get_object(self, queryset=None):
        return super().get_object(queryset) if "pk" in self.kwargs else None

    def get_permission_required(self):
        return [f"crm.{'change' if 'pk' in self.kwargs else 'add'}_{self.model_name}"]

    def form_valid(self, form):
        self.object = self.save_record(form.instance)
        return redirect(self.object)


class CompanyFormView(RecordFormView):
    form_class = CompanyForm

    def get_queryset(self):
        return selectors.companies_all()

    def save_record(self, company):
        return services.company_save(company=company)


class ContactFormView(RecordFormView):
    form_class = ContactForm

    def get_queryset(self):
        return selectors.contacts_all()

    def get_initial(self):
        company = id_param(self.request.GET, "company")
        return {"company": company} if company else {}

    def save_record(self, contact):
        return services.contact_save(contact=contact)
