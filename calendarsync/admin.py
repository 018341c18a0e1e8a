from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from calendarsync import recovery, selectors, services
from calendarsync.models import ConflictRecord, ExternalAccount, RemoteCalendar, SyncPolicy, SyncRun, TrashedAction
from crm.admin import ProfileAdmin

# allauth only runs the consent; accounts and tokens live in calendarsync (its social applications
# stay: that is where an administrator may register the Google or Microsoft OAuth client).
for model in (SocialAccount, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class SyncPolicyInline(admin.StackedInline):
    model = SyncPolicy
    can_delete = True
    verbose_name_plural = _("sync permissions (none: this profile's users may connect nothing)")


ProfileAdmin.inlines = [*ProfileAdmin.inlines, SyncPolicyInline]


class RemoteCalendarInline(admin.TabularInline):
    model = RemoteCalendar
    extra = 0
    fields = ["name", "color", "can_write", "time_zone", "selected", "enabled", "direction", "is_destination",
              "gone_at"]
    readonly_fields = fields  # users choose how their calendars sync, under their profile's rules
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExternalAccount)
class ExternalAccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "state", "problem", "sandbox", "connected_at"]
    list_filter = ["provider", "state", "sandbox"]
    search_fields = ["email", "username", "server_url", "user__username", "user__email"]
    fields = ["user", "provider", "email", "name", "remote_id", "sandbox", "username", "server_url", "home_url",
              "state", "problem", "problem_text", "scopes", "connected_at", "calendars_refreshed_at"]
    readonly_fields = fields  # states change through the actions; tokens and passwords are never shown
    inlines = [RemoteCalendarInline]
    actions = ["disable", "enable"]

    def has_add_permission(self, request):
        return False  # accounts are connected by their users (OAuth consent, or their own app password)

    @admin.display(description=_("what the user sees"))
    def problem_text(self, account):
        return selectors.account_problem(account) or "—"

    @admin.action(description=_("Disable the selected accounts (sync stops until enabled)"))
    def disable(self, request, queryset):
        _each(request, queryset, lambda account: services.account_set_disabled(account, True),
              _("%(count)d accounts disabled."))

    @admin.action(description=_("Enable the selected accounts"))
    def enable(self, request, queryset):
        _each(request, queryset, lambda account: services.account_set_disabled(account, False),
              _("%(count)d accounts enabled."))


@admin.register(RemoteCalendar)
class RemoteCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "selected", "enabled", "direction", "status", "last_synced_at", "last_figures"]
    list_filter = ["selected", "direction", "account__provider"]
    list_select_related = ["account__user", "last_run"]
    search_fields = ["name", "account__email", "account__user__username"]
    # Read-only: a calendar's settings are its user's, checked against the profile's rules by the services.
    readonly_fields = ["account", "remote_id", "name", "color", "can_write", "is_primary", "owner_email", "gone_at",
                       "selected", "enabled", "direction", "action_types", "first_sync", "first_sync_since",
                       "is_destination", "last_synced_at", "last_figures", "error", "hold", "held_by_admin",
                       "window_start", "has_cursor"]
    exclude = ["cursor", "lease_owner", "lease_expires_at", "last_run", "deletions_confirmed"]
    actions = ["sync_now", "reset_cursor", "pause", "resume"]

    def has_add_permission(self, request):
        return False

    def get_changelist_instance(self, request):
        """The page's calendars learn why they are paused once per user, not once per row."""
        changelist = super().get_changelist_instance(request)
        reasons, users = {}, {calendar.account.user_id: calendar.account.user for calendar in changelist.result_list}
        for user in users.values():
            reasons.update(selectors.pause_reasons(user))
        for calendar in changelist.result_list:
            calendar.pause_reasons = reasons
        return changelist

    @admin.display(description=_("status"))
    def status(self, calendar):
        status, text = selectors.calendar_status(calendar, calendar.pause_reasons)
        return f"{status.label}: {text}" if text else status.label

    @admin.display(description=_("last run"))
    def last_figures(self, calendar):
        run = calendar.last_run
        if run is None:
            return "—"
        return _("%(created)d created, %(updated)d updated, %(deleted)d deleted, %(conflicts)d conflicts, "
                 "%(skipped)d skipped; %(requests)d requests, %(seconds)s s") % {
            "created": run.created, "updated": run.updated, "deleted": run.deleted, "conflicts": run.conflicts,
            "skipped": run.skipped, "requests": run.requests, "seconds": run.seconds}

    @admin.display(description=_("sync cursor kept"), boolean=True)
    def has_cursor(self, calendar):
        return bool(calendar.cursor)

    @admin.action(description=_("Sync the selected calendars now"))
    def sync_now(self, request, queryset):
        _each(request, queryset.select_related("account__user"), services.calendar_sync_now,
              _("%(count)d calendars queued for sync; their runs show here when done."))

    @admin.action(description=_("Reset the sync cursor (the next run lists the whole window)"))
    def reset_cursor(self, request, queryset):
        count = services.calendars_reset_cursor(queryset)
        messages.success(request, _("%(count)d cursors reset.") % {"count": count})

    @admin.action(description=_("Pause sync of the selected calendars"))
    def pause(self, request, queryset):
        count = services.calendars_hold(queryset, _("An administrator paused the sync of this calendar."))
        messages.success(request, _("%(count)d calendars paused.") % {"count": count})

    @admin.action(description=_("Resume sync of the selected calendars"))
    def resume(self, request, queryset):
        count = services.calendars_release(queryset)
        messages.success(request, _("%(count)d calendars resumed.") % {"count": count})


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "calendar", "trigger", "dry_run", "full", "created", "updated", "deleted",
                    "conflicts", "skipped", "requests", "seconds", "error"]
    list_filter = ["trigger", "dry_run", "full"]
    list_select_related = ["calendar__account"]
    search_fields = ["calendar__name", "calendar__account__email", "error"]


@admin.register(ConflictRecord)
class ConflictRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subject", "calendar", "group", "winner", "kept_text", "set_aside_text",
                    "restored_at"]
    list_filter = ["group", "winner"]
    list_select_related = ["calendar__account__user"]
    search_fields = ["subject", "calendar__account__email"]
    actions = ["restore"]

    @admin.action(description=_("Give the appointments the version set aside"))
    def restore(self, request, queryset):
        _each(request, queryset.select_related("calendar__account__user", "action"),
              lambda record: recovery.conflict_restore(record.calendar.account.user, record),
              _("%(count)d appointments have the other version back."))


@admin.register(TrashedAction)
class TrashedActionAdmin(ReadOnlyAdmin):
    list_display = ["trashed_at", "subject", "starts", "owner", "calendar"]
    list_select_related = ["owner", "calendar"]
    search_fields = ["subject", "owner__username"]
    exclude = ["snapshot"]
    actions = ["restore"]

    @admin.action(description=_("Restore the selected appointments"))
    def restore(self, request, queryset):
        _each(request, queryset.select_related("owner", "calendar"),
              lambda trashed: recovery.trash_restore(trashed.owner, trashed), _("%(count)d appointments restored."))


def _each(request, rows, call, done):
    """Call a service for each row: warn about those it refused, and say how many it did."""
    count = 0
    for row in rows:
        try:
            call(row)
        except (services.Invalid, services.Refused) as exc:
            messages.warning(request, f"{row}: {exc}")
        else:
            count += 1
    messages.success(request, done % {"count": count})
