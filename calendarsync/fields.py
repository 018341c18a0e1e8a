import logging

from django.db import models

from . import crypto

log = logging.getLogger(__name__)


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database (see crypto.py), plain in Python.

    A value the configured keys cannot decrypt reads as empty (and is logged, never shown): for a
    token, that means "reconnect needed", which is the honest state when the keys were lost.
    """

    def from_db_value(self, value, expression, connection):
        try:
            return crypto.decrypt(value) if value else ""
        except crypto.TokenKeyError as exc:
            log.warning("%s (%s)", exc, self.name)
            return ""

    def get_prep_value(self, value):
        return crypto.encrypt(super().get_prep_value(value) or "")
