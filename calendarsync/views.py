"""The "External synchronization" page: connect accounts, choose calendars and how they sync.

Thin: each view checks who asks, calls one service, and redirects back with a message. A refusal
by a profile permission is a 403 page that says why.
"""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from calendarsync import jobs, presets, providers, recovery, selectors, services
from calendarsync.forms import CalDAVAccountForm, CalendarSettingsForm, active_action_types
from calendarsync.models import CalendarStatus, ConflictRecord, ExternalAccount, Provider, RemoteCalendar, TrashedAction
from calendarsync.oauth import clients
from crm.views.params import id_param

# What each provider asks for beyond its scopes: offline access and a fresh consent, so that a refresh
# token always comes back, and the account chooser, so that a second account can be added.
AUTH_PARAMS = {"google": {"access_type": "offline", "prompt": "select_account consent"},
               "microsoft": {"prompt": "select_account"}}


@require_GET
@login_required
def settings_page(request):
    return _settings(request, CalDAVAccountForm())


def _settings(request, caldav_form, status=200):
    accounts = list(selectors.accounts_of(request.user))
    for account in accounts:  # a worker reads the provider; the page shows what is known now
        if selectors.calendars_due(account):
            jobs.refresh_calendars(account.pk)
        account.reading = account.is_active and account.calendars_refreshed_at is None
    allowed = selectors.allowed_for(request.user)
    action_types = active_action_types()
    calendars = [calendar for account in accounts for calendar in account.calendars.all()]
    reasons = selectors.pause_reasons(request.user, calendars)
    activity = selectors.calendar_activity([calendar.pk for calendar in calendars])
    for account in accounts:
        account.problem_text = selectors.account_problem(account)
        for calendar in account.calendars.all():
            calendar.activity = activity[calendar.pk]
            calendar.status, calendar.status_text = selectors.calendar_status(calendar, reasons)
            calendar.status_label = CalendarStatus(calendar.status).label
            calendar.large = calendar.entries > selectors.large_calendar()
            calendar.form = CalendarSettingsForm(calendar=calendar, allowed=allowed, action_types=action_types)
    return render(request, "calendarsync/settings.html", {
        "accounts": accounts, "offers": selectors.offers_for(request.user), "allowed": allowed,
        "reading": any(account.reading for account in accounts), "caldav_form": caldav_form,
        "presets": presets.offered(), "large": selectors.large_calendar()}, status=status)


@require_POST
@login_required
def connect(request, provider):
    """Send the user to the provider's consent screen (allauth runs the flow, the adapter keeps the result)."""
    if provider not in Provider.values or provider == Provider.CALDAV:
        raise Http404(_("Unknown provider."))
    refusal = selectors.allowed_for(request.user).provider_refusal(provider)
    if refusal:
        raise PermissionDenied(refusal)
    account = None
    if request.POST.get("account"):
        pk = id_param(request.POST, "account")
        if pk is None:
            raise Http404(_("No such account."))
        account = get_object_or_404(ExternalAccount, pk=pk, user=request.user, provider=provider)
    if clients.offered(provider) is None:
        messages.error(request, _("%(provider)s is not set up on this server; an administrator must register an "
                                  "OAuth client first.") % {"provider": Provider(provider).label})
        return redirect("calendarsync:settings")
    auth_params = dict(AUTH_PARAMS[provider])
    if account is not None and account.email:
        auth_params["login_hint"] = account.email
    allauth_provider = get_adapter(request).get_provider(request, provider)
    return allauth_provider.redirect(request, process=AuthProcess.CONNECT,
                                     next_url=reverse("calendarsync:settings"),
                                     data={"calendarsync": True, "reconnect": account.pk if account else None},
                                     scope=providers.provider_class(provider).scopes, auth_params=auth_params)


@sensitive_post_parameters("password")
@require_POST
@login_required
def caldav_add(request):
    """Add a CalDAV account, or give one a new password (`account`); a worker then finds its calendars. A
    form the service refuses comes back with the reason beside it (and without the password); a reconnection
    refused says why above its own form."""
    data, reconnect = request.POST.copy(), None
    if "account" in data:
        reconnect = get_object_or_404(ExternalAccount, pk=id_param(data, "account") or 0, user=request.user,
                                      provider=Provider.CALDAV)
        data["preset"] = reconnect.preset if presets.find(reconnect.preset) else "generic"  # still offered?
    form = CalDAVAccountForm(data)
    if form.is_valid():
        try:
            account = services.caldav_connect(request.user, reconnect=reconnect, **form.cleaned_data)
        except services.Refused as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.Invalid as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Looking for the calendars of %(account)s… they show here in a moment.") % {
                "account": account})
            return redirect(f"{reverse('calendarsync:settings')}#account-{account.pk}")
    if reconnect is not None:
        messages.error(request, _("%(account)s was not reconnected: %(reasons)s") % {
            "account": reconnect, "reasons": " ".join(error for errors in form.errors.values() for error in errors)})
        return redirect(f"{reverse('calendarsync:settings')}#reconnect-{reconnect.pk}")
    return _settings(request, form, status=400)


@require_POST
@login_required
def disconnect(request, pk):
    account = get_object_or_404(ExternalAccount, pk=pk, user=request.user)
    try:
        services.account_disconnect(account, appointments=request.POST.get("appointments"))
    except services.Invalid as exc:
        messages.error(request, str(exc))
        return redirect("calendarsync:settings")
    messages.success(request, _("%(account)s is disconnected; nothing syncs through it any more.") % {
        "account": account})
    return redirect("calendarsync:settings")


@require_POST
@login_required
def calendar_update(request, pk):
    calendar = get_object_or_404(RemoteCalendar.objects.select_related("account"), pk=pk, account__user=request.user)
    form = CalendarSettingsForm(request.POST, calendar=calendar, allowed=selectors.allowed_for(request.user))
    if not form.is_valid():
        messages.error(request, _("%(calendar)s was not changed: %(errors)s") % {
            "calendar": calendar, "errors": "; ".join(f"{form.fields[name].label}: {' '.join(errors)}"
                                                      for name, errors in form.errors.items())})
        return redirect("calendarsync:settings")
    try:
        services.calendar_configure(request.user, calendar, **form.cleaned_data)
    except services.Refused as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.Invalid as exc:
        messages.error(request, _("%(calendar)s was not changed: %(reason)s") % {"calendar": calendar, "reason": exc})
    else:
        messages.success(request, _("%(calendar)s is saved.") % {"calendar": calendar})
    return _back_to(calendar)


def _own_calendar(request, pk):
    return get_object_or_404(RemoteCalendar.objects.select_related("account__user"), pk=pk, account__user=request.user)


def _back_to(calendar):
    if calendar is None:
        return redirect("calendarsync:settings")
    return redirect(f"{reverse('calendarsync:settings')}#calendar-{calendar.pk}")


def _carry_out(request, call, done, calendar):
    """Call one service; say it is done, or why not, and go back to the calendar on the page."""
    try:
        call()
    except services.Invalid as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _back_to(calendar)


@require_POST
@login_required
def calendar_sync(request, pk):
    calendar = _own_calendar(request, pk)
    done = _("%(calendar)s will be synced in a moment; the result shows here.") % {"calendar": calendar}
    return _carry_out(request, lambda: services.calendar_sync_now(calendar), done, calendar)


@require_POST
@login_required
def calendar_resume(request, pk):
    calendar = _own_calendar(request, pk)
    return _carry_out(request, lambda: services.calendar_resume(request.user, calendar),
                      _("%(calendar)s syncs again, deletions included.") % {"calendar": calendar}, calendar)


@require_POST
@login_required
def conflict_restore(request, pk):
    record = get_object_or_404(ConflictRecord.objects.select_related("calendar__account"), pk=pk,
                               calendar__account__user=request.user)
    return _carry_out(request, lambda: recovery.conflict_restore(request.user, record),
                      _("%(subject)s has the other version back.") % {"subject": record.subject}, record.calendar)


@require_POST
@login_required
def trash_restore(request, pk):
    trashed = get_object_or_404(TrashedAction.objects.select_related("calendar"), pk=pk, owner=request.user)
    return _carry_out(request, lambda: recovery.trash_restore(request.user, trashed),
                      _("%(subject)s is back.") % {"subject": trashed.subject}, trashed.calendar)
