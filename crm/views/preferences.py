from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import UpdateView

from crm.forms import TIME_ZONES
from crm.models import User


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(name, name) for name in TIME_ZONES],
                                  help_text=_("Your agenda shows times in this zone."))

    class Meta:
        model = User
        fields = ["first_name", "last_name", "job_title", "phone", "time_zone", "work_days", "work_start", "work_end"]
        widgets = {"work_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "work_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
        help_texts = {"work_end": _("In your time zone. “Find a time” offers slots within everyone's working hours.")}


class PreferencesView(LoginRequiredMixin, UpdateView):
    """The signed-in user's own details and time zone."""

    template_name = "crm/preferences.html"
    form_class = PreferencesForm
    success_url = reverse_lazy("crm:preferences")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        messages.success(self.request, _("Your preferences are saved."))
        return super().form_valid(form)
