from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView, ListView

from crm import recurrence, selectors, services
from crm.availability import selectors as availability
from crm.filters import ActionPageFilter
from crm.forms import ActionForm, default_times
from crm.models import ActionStatus, ActionType
from crm.views.params import id_param, parse_moment

MAX_WARNINGS = 5  # a series meeting a weekly meeting every time need not say so twenty times


def resolve(request, pk):
    """Return (action, occurrence) for /actions/<pk>/?occurrence=<key>, or 404.

    `action` is a single action or a series. An override row is one occurrence of its series; a
    series without a key stands for the whole series (shown at its first occurrence), and then
    the occurrence has no `recurrence_id`.
    """
    action = get_object_or_404(
        selectors.actions_visible_to(request.user).select_related("action_type", "owner", "company", "series"),
        pk=pk,
    )
    if action.series_id:  # the override row is that occurrence: no need to look it up again
        return action.series, selectors.occurrence_of(action=action)
    key = request.GET.get("occurrence", "")
    try:
        return action, selectors.occurrence_of(action=action, recurrence_id=key if action.is_series else "")
    except recurrence.RecurrenceError as exc:
        raise Http404(str(exc)) from exc


def _one_occurrence(action, occurrence):
    return action.is_series and bool(occurrence.recurrence_id)


def _require_edit(request, action, permission):
    if not request.user.has_perm(permission) or not selectors.action_can_edit(user=request.user, action=action):
        raise PermissionDenied(_("Your profile does not allow changing this action."))


def _agenda_at(occurrence_start, zone):
    day = occurrence_start if isinstance(occurrence_start, date) and not isinstance(
        occurrence_start, datetime) else occurrence_start.astimezone(zone).date()
    return f"{reverse('crm:agenda')}?date={day:%Y-%m-%d}"


@login_required
def action_detail(request, pk):
    action, occurrence = resolve(request, pk)
    row = occurrence.action
    return render(request, "crm/action_detail.html", {
        "action": action, "row": row, "occurrence": occurrence,
        "can_edit": selectors.action_can_edit(user=request.user, action=action),
        "rule": recurrence.describe(action.rrule, action.zone) if action.is_series else "",
        "participants": row.participants.all(), "contacts": row.contacts.select_related("company"),
        "in_own_zone": row.time_zone != str(timezone.get_current_timezone()),
    })


class ActionFormView(LoginRequiredMixin, FormView):
    """Create an action, or edit one, a whole series, or one occurrence of a series."""

    template_name = "crm/action_form.html"
    form_class = ActionForm

    def dispatch(self, request, *args, **kwargs):
        self.action, self.occurrence = (None, None)
        if "pk" in kwargs and request.user.is_authenticated:
            self.action, self.occurrence = resolve(request, kwargs["pk"])
            _require_edit(request, self.action, "crm.change_action")
        elif request.user.is_authenticated and not request.user.has_perm("crm.add_action"):
            raise PermissionDenied(_("Your profile does not allow creating actions."))
        return super().dispatch(request, *args, **kwargs)

    @property
    def one_occurrence(self):
        return self.action is not None and _one_occurrence(self.action, self.occurrence)

    def get_form_kwargs(self):
        owner = self.action.owner if self.action is not None else self.request.user
        return super().get_form_kwargs() | {"with_recurrence": not self.one_occurrence, "owner": owner}

    def get_initial(self):
        if self.action is None:
            return self._initial_for_new()
        if self.one_occurrence:
            return ActionForm.initial_for(self.occurrence.action, self.occurrence.start, self.occurrence.end)
        return ActionForm.initial_for(self.action, *self.action.first_occurrence())

    def form_valid(self, form):
        fields = dict(form.action_fields)
        people = {"participants": form.cleaned_data["participants"], "contacts": form.cleaned_data["contacts"]}
        try:
            if self.action is None:
                saved = services.action_create(owner=self.request.user, **people, **fields)
            elif self.one_occurrence:
                saved = services.occurrence_update(
                    series=self.action, recurrence_id=self.occurrence.recurrence_id, **people, **fields)
            else:
                saved = services.action_update(action=self.action, **people, **fields)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("“%(subject)s” saved.") % {"subject": saved.subject})
        _warn_of_overlaps(self.request, saved if not self.one_occurrence else self.action,
                          selectors.occurrence_of(action=saved) if self.one_occurrence else None)
        return redirect(_agenda_at(saved.first_occurrence()[0], timezone.get_current_timezone()))

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {
            "action": self.action, "occurrence": self.occurrence, "one_occurrence": self.one_occurrence,
            "owner": self.action.owner if self.action is not None else self.request.user,
        }

    def _initial_for_new(self):
        zone = timezone.get_current_timezone()
        action_type = (ActionType.objects.filter(code=self.request.GET.get("type"), is_active=True).first()
                       or selectors.action_types_active().filter(is_appointment=True).first()
                       or selectors.action_types_active().first())
        start, end = default_times(parse_moment(self.request.GET.get("start"), zone),
                                   action_type.default_duration if action_type else 60, zone)
        initial = {"action_type": action_type, "time_zone": str(zone), "status": ActionStatus.PLANNED,
                   "all_day": not isinstance(start, datetime), "repeat": ""}
        if isinstance(start, datetime):
            initial.update(start_date=start.date(), start_time=start.time(), end_date=end.date(), end_time=end.time())
        else:
            initial.update(start_date=start, end_date=start)
        company, contact = id_param(self.request.GET, "company"), id_param(self.request.GET, "contact")
        if company:
            initial["company"] = company
        if contact:
            initial["contacts"] = [contact]
        return initial


def _warn_of_overlaps(request, action, occurrence=None):
    """Saved all the same: say whose busy times it meets (the form's script said so before saving)."""
    zone = timezone.get_current_timezone()
    for overlap in availability.overlaps_of(viewer=request.user, action=action, occurrence=occurrence)[:MAX_WARNINGS]:
        messages.warning(request, overlap.text(zone))


@login_required
def action_delete(request, pk):
    action, occurrence = resolve(request, pk)
    _require_edit(request, action, "crm.delete_action")
    one_occurrence = _one_occurrence(action, occurrence)
    if request.method == "POST":
        if one_occurrence:
            services.occurrence_cancel(series=action, recurrence_id=occurrence.recurrence_id)
            messages.success(request, _("This occurrence of “%(subject)s” was cancelled.") % {
                "subject": action.subject})
        else:
            services.action_delete(action=action)
            messages.success(request, _("“%(subject)s” was deleted.") % {"subject": action.subject})
        return redirect(_agenda_at(occurrence.start, timezone.get_current_timezone()))
    return render(request, "crm/action_confirm_delete.html", {
        "action": action, "occurrence": occurrence, "one_occurrence": one_occurrence})


@login_required
@require_POST
def action_move(request, pk):
    """Move an action or one occurrence (drag and drop in the agenda); answer in JSON."""
    action, occurrence = resolve(request, pk)
    try:
        _require_edit(request, action, "crm.change_action")
    except PermissionDenied as refused:  # the agenda's script reads JSON
        return JsonResponse({"error": str(refused)}, status=403)
    zone = timezone.get_current_timezone()
    start = _new_start(request.POST, occurrence, zone)
    if start is None:
        return JsonResponse({"error": _("Give the new start as start=YYYY-MM-DDTHH:MM or date=YYYY-MM-DD.")},
                            status=400)
    if request.POST.get("check"):  # the agenda asks first what the new time meets, and says so before moving
        row = occurrence.action
        found = availability.overlaps(viewer=request.user, people=availability.people_of(row), start=start,
                                      end=start + (occurrence.end - occurrence.start), ignore_uid=row.uid)
        return JsonResponse({"warnings": [overlap.text(zone) for overlap in found]})
    try:
        services.action_move(action=action, start=start, recurrence_id=occurrence.recurrence_id
                             if action.is_series else "")
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"ok": True})


def _new_start(data, occurrence, zone):
    """Read the drop target: a new start, or a new date that keeps the time of day."""
    moment = parse_moment(data.get("start") or data.get("date"), zone)
    if moment is None:
        return None
    if occurrence.all_day:
        return moment.date() if isinstance(moment, datetime) else moment
    if isinstance(moment, datetime):
        return moment
    kept = occurrence.start.astimezone(zone)
    return datetime.combine(moment, kept.time(), zone)


class ActionListView(LoginRequiredMixin, ListView):
    template_name = "crm/action_list.html"
    paginate_by = 25

    def get_queryset(self):
        actions = selectors.actions_visible_to(self.request.user).filter(series__isnull=True).select_related(
            "action_type", "owner", "company")
        params = self.request.GET.copy()
        params.setdefault("period", "upcoming")
        self.filterset = ActionPageFilter(params, queryset=actions)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {
            "types": selectors.action_types_active(), "statuses": ActionStatus.choices,
            "owners": selectors.users_active() if self.request.user.has_perm("crm.view_all_actions") else [],
            "period": self.filterset.form.data["period"],
        }
