from datetime import time

from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.validators import validate_time_zone


class Profile(Group):
    """What a kind of user may do ("Sales", "Technician", "Manager").

    A profile *is* a Django group (multi-table inheritance): its permissions are the group's,
    managed in the admin, and crm.backends.ProfileBackend grants them to the profile's users.
    """

    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        ordering = ["name"]


class User(AbstractUser):
    profile = models.ForeignKey(
        Profile, verbose_name=_("profile"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="users",
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, validators=[validate_time_zone],
        help_text=_("IANA name, e.g. Europe/Paris. Empty: the site's default time zone."),
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # Working hours, in the user's own zone: "Find a time" offers slots within everyone's.
    work_days = models.CharField(
        _("working days"), max_length=7, default="12345",
        validators=[RegexValidator(r"^(?!.*(.).*\1)[1-7]{0,7}$", _("Give weekdays as digits, 1 for Monday to 7."))],
        help_text=_("ISO weekdays, 1 for Monday to 7 for Sunday: 12345 is Monday to Friday."),
    )
    work_start = models.TimeField(_("working day starts"), default=time(9))
    work_end = models.TimeField(_("working day ends"), default=time(17))

    class Meta(AbstractUser.Meta):
        ordering = ["first_name", "last_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    def clean(self):
        super().clean()
        if self.work_start and self.work_end and self.work_end <= self.work_start:
            raise ValidationError({"work_end": _("The working day must end after it starts.")})
