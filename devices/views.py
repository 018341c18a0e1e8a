"""The *Calendars on devices* page: which calendars go to devices, their addresses, the device passwords."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from calendarsync.selectors import large_calendar
from devices import selectors, services
from devices.calendars import calendar_of


@login_required
@require_http_methods(["GET", "POST"])
def devices_page(request):
    """GET: the page. POST with a device name: a new device password, shown on the page this once."""
    created = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, _("Give the device a name, such as “Alice's phone”, to tell its password apart."))
            return redirect("devices:page")
        password, secret = services.password_create(user=request.user, name=name)
        created = {"password": password, "secret": secret}
    services.agenda_ensure(user=request.user)
    return render(request, "devices/page.html", {
        "calendars": selectors.calendars_shown(request.user, request.build_absolute_uri("/")),
        "passwords": selectors.passwords_of(request.user), "created": created,
        "dav_url": request.build_absolute_uri(reverse("devices:dav-root")),
        "large": large_calendar(),
    }, status=201 if created else 200)


@login_required
@require_POST
def calendar_switch(request, key):
    synced = request.POST.get("synced") == "on"
    if calendar_of(request.user, key) is None:
        messages.error(request, _("There is no such calendar for you."))
        return redirect("devices:page")
    services.calendar_switch(user=request.user, key=key, synced=synced)
    messages.success(request, _("It now goes to your devices.") if synced else _("It no longer goes to your devices."))
    return redirect(f"{reverse('devices:page')}#calendar-{key}")


@login_required
@require_POST
def feeds_renew(request, key):
    if calendar_of(request.user, key) is None:
        messages.error(request, _("There is no such calendar for you."))
        return redirect("devices:page")
    services.feeds_renew(user=request.user, key=key)
    messages.success(request, _("New subscription addresses: the old ones no longer work."))
    return redirect(f"{reverse('devices:page')}#calendar-{key}")


@login_required
@require_POST
def password_revoke(request, pk):
    if services.password_revoke(user=request.user, pk=pk):
        messages.success(request, _("The password is revoked: the device using it can no longer sync."))
    return redirect("devices:page")
