import logging

from django.db import models

from . import crypto

log = logging.getLogger(__name__)


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database (see crypto.py), plain in Python.

    Serialised (dumpdata) it stays encrypted. A value the configured keys cannot decrypt reads as
    empty (and is logged, never shown): for a token, that means "reconnect needed", which is the
    honest state when the keys were lost.
    """

    def from_db_value(self, value, expression, connection):
        try:
            return crypto.decrypt(value) if value else ""
        except crypto.TokenKeyError as exc:
            log.warning("%s (%s)", exc, self.name)
            return ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value) or ""
        return value if crypto.is_encrypted(value) else crypto.encrypt(value)  # loaddata brings it encrypted

    def value_to_string(self, obj):
        """dumpdata writes the encrypted form: a fixture file holds no usable token either."""
        return crypto.encrypt(self.value_from_object(obj) or "")
