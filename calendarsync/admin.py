from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from calendarsync import selectors, services
from calendarsync.models import ExternalAccount, RemoteCalendar, SyncPolicy
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
    fields = ["name", "color", "can_write", "selected", "enabled", "direction", "is_destination",
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
    search_fields = ["email", "user__username", "user__email"]
    fields = ["user", "provider", "email", "name", "remote_id", "sandbox", "state", "problem", "problem_text",
              "scopes", "connected_at", "calendars_refreshed_at"]
    readonly_fields = fields  # states change through the actions; tokens are never shown
    inlines = [RemoteCalendarInline]
    actions = ["disable", "enable"]

    def has_add_permission(self, request):
        return False  # accounts are connected by their users, through the provider's consent

    @admin.display(description=_("what the user sees"))
    def problem_text(self, account):
        return selectors.account_problem(account) or "—"

    @admin.action(description=_("Disable the selected accounts (sync stops until enabled)"))
    def disable(self, request, queryset):
        for account in queryset:
            services.account_set_disabled(account, True)
        messages.success(request, _("%(count)d accounts disabled.") % {"count": queryset.count()})

    @admin.action(description=_("Enable the selected accounts"))
    def enable(self, request, queryset):
        for account in queryset:
            services.account_set_disabled(account, False)
        messages.success(request, _("%(count)d accounts enabled.") % {"count": queryset.count()})


@admin.register(RemoteCalendar)
class RemoteCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "selected", "enabled", "direction", "status", "last_synced_at"]
    list_filter = ["selected", "direction", "account__provider"]
    search_fields = ["name", "account__email", "account__user__username"]
    # Read-only: a calendar's settings are its user's, checked against the profile's rules by the services.
    readonly_fields = ["account", "remote_id", "name", "color", "can_write", "is_primary", "owner_email", "gone_at",
                       "selected", "enabled", "direction", "action_types", "first_sync", "first_sync_since",
                       "is_destination", "syncing", "last_synced_at", "error"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("status"))
    def status(self, calendar):
        status, text = selectors.calendar_status(calendar, selectors.pause_reasons(calendar.account.user))
        return f"{status.label}: {text}" if text else status.label
