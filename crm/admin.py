from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import Count, F
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm import services
from crm.models import Action, ActionType, Company, Contact, Profile, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "get_full_name", "email", "profile", "time_zone", "is_active", "is_staff"]
    list_filter = ["profile", "is_active", "is_staff", "is_superuser"]
    list_select_related = ["profile"]
    fieldsets = [
        *BaseUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ["first_name", "last_name", "email", "job_title", "phone", "time_zone"]}),
        (_("Profile"), {"fields": ["profile"], "description": _(
            "The profile decides what this user may do; edit profiles under CRM › Profiles.")}),
        *BaseUserAdmin.fieldsets[2:],
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": [
            "username", "first_name", "last_name", "email", "profile", "time_zone", "password1", "password2",
        ]}),
    ]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "user_count"]
    search_fields = ["name"]
    filter_horizontal = ["permissions"]
    fields = ["name", "description", "permissions"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_count=Count("users"))

    @admin.display(description=_("users"), ordering="user_count")
    def user_count(self, profile):
        return profile.user_count


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["first_name", "last_name", "job_title", "email", "phone"]
    extra = 0
    show_change_link = True


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "country", "industry", "account_manager", "contact_count"]
    list_filter = ["country", "industry", "account_manager"]
    list_select_related = ["account_manager"]
    search_fields = ["name", "city", "email", "website"]
    autocomplete_fields = ["account_manager"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [ContactInline]
    fieldsets = [
        (None, {"fields": ["name", "industry", "account_manager"]}),
        (_("Reach"), {"fields": ["website", "email", "phone"]}),
        (_("Address"), {"fields": ["address", "postal_code", "city", "country"]}),
        (_("Notes"), {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(contact_count=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_count")
    def contact_count(self, company):
        return company.contact_count


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "job_title", "email", "phone"]
    list_filter = ["company__country"]
    list_select_related = ["company"]
    search_fields = ["first_name", "last_name", "email", "company__name"]
    autocomplete_fields = ["company"]


@admin.register(ActionType)
class ActionTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_appointment", "swatch", "default_duration", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_appointment", "is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}

    @admin.display(description=_("color"))
    def swatch(self, action_type):
        return format_html(
            '<span style="display:inline-block;width:1.2em;height:1.2em;border-radius:3px;'
            'background:{}" title="{}"></span>', action_type.color, action_type.color,
        )


class RecurringFilter(admin.SimpleListFilter):
    title = _("recurrence")
    parameter_name = "recurrence"

    def lookups(self, request, model_admin):
        return [("series", _("Recurring series")), ("override", _("Changed occurrences")),
                ("single", _("Single actions"))]

    def queryset(self, request, queryset):
        if self.value() == "series":
            return queryset.exclude(rrule="")
        if self.value() == "override":
            return queryset.filter(series__isnull=False)
        if self.value() == "single":
            return queryset.filter(rrule="", series__isnull=True)
        return queryset


class OverrideInline(admin.TabularInline):
    model = Action
    fk_name = "series"
    fields = ["recurrence_id", "subject", "start", "end", "start_date", "end_date", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("changed occurrence")
    verbose_name_plural = _("changed occurrences")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    """Actions edited here go through crm.services, so they announce themselves like any other."""

    list_display = ["subject", "action_type", "when", "owner", "company", "status", "recurring"]
    list_filter = ["action_type", "status", "owner", "all_day", RecurringFilter]
    list_select_related = ["action_type", "owner", "company"]
    search_fields = ["subject", "location", "description", "uid", "company__name"]
    date_hierarchy = "span_start"
    autocomplete_fields = ["owner", "company", "contacts", "participants"]
    readonly_fields = ["uid", "series", "recurrence_id", "created_at", "updated_at"]
    inlines = [OverrideInline]
    fieldsets = [
        (None, {"fields": ["action_type", "subject", "status", "owner"]}),
        (_("When"), {"fields": ["all_day", ("start", "end"), ("start_date", "end_date"), "time_zone"]}),
        (_("Recurrence"), {"fields": ["rrule", "exdates", "series", "recurrence_id"], "classes": ["collapse"]}),
        (_("Who and where"), {"fields": ["location", "company", "contacts", "participants"]}),
        (_("Details"), {"fields": ["description", "color", "availability", "privacy"]}),
        (_("Identity"), {"fields": ["uid", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    @admin.display(description=_("when"), ordering="span_start")
    def when(self, action):
        start, end = action.first_occurrence()
        if action.all_day:
            return f"{start:%Y-%m-%d} (all day)"
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} {action.time_zone}"

    @admin.display(description=_("recurring"), boolean=True)
    def recurring(self, action):
        return action.is_series

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        initial.setdefault("time_zone", request.user.time_zone or settings.TIME_ZONE)
        return initial

    def save_model(self, request, obj, form, change):
        services.action_save(
            action=obj, participants=form.cleaned_data["participants"], contacts=form.cleaned_data["contacts"]
        )

    def save_related(self, request, form, formsets, change):
        # Relations were saved by the service, before it announced the change.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.action_delete(action=obj)

    def delete_queryset(self, request, queryset):
        # Overrides first (each cancels its occurrence), then the rest; deleting a series takes
        # its overrides along, so every row is fetched afresh and skipped once gone.
        for pk in queryset.order_by(F("series").asc(nulls_last=True)).values_list("pk", flat=True):
            action = Action.objects.select_related("series").filter(pk=pk).first()
            if action is not None:
                services.action_delete(action=action)
