from django.urls import path
from django.views.generic import RedirectView

from crm.views import actions, agenda, availability, directory, preferences

app_name = "crm"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="crm:agenda"), name="home"),
    path("agenda/", agenda.AgendaView.as_view(), name="agenda"),
    path("availability/", availability.grid, name="availability"),
    path("availability/overlaps.json", availability.overlaps, name="availability-overlaps"),
    path("availability/slots.json", availability.slots, name="availability-slots"),
    path("actions/", actions.ActionListView.as_view(), name="action-list"),
    path("actions/new/", actions.ActionFormView.as_view(), name="action-create"),
    path("actions/<int:pk>/", actions.action_detail, name="action-detail"),
    path("actions/<int:pk>/edit/", actions.ActionFormView.as_view(), name="action-edit"),
    path("actions/<int:pk>/delete/", actions.action_delete, name="action-delete"),
    path("actions/<int:pk>/move/", actions.action_move, name="action-move"),
    path("companies/", directory.CompanyListView.as_view(), name="company-list"),
    path("companies/new/", directory.CompanyFormView.as_view(), name="company-create"),
    path("companies/<int:pk>/", directory.CompanyDetailView.as_view(), name="company-detail"),
    path("companies/<int:pk>/edit/", directory.CompanyFormView.as_view(), name="company-edit"),
    path("contacts/", directory.ContactListView.as_view(), name="contact-list"),
    path("contacts/new/", directory.ContactFormView.as_view(), name="contact-create"),
    path("contacts/<int:pk>/", directory.ContactDetailView.as_view(), name="contact-detail"),
    path("contacts/<int:pk>/edit/", directory.ContactFormView.as_view(), name="contact-edit"),
    path("preferences/", preferences.PreferencesView.as_view(), name="preferences"),
]
