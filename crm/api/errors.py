"""Turn domain errors into 400s that name the field, instead of 500s."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from crm.recurrence import RecurrenceError
from crm.services import OccurrenceError


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RecurrenceError | OccurrenceError):
        exc = exceptions.ValidationError({"recurrence_id": [str(exc)]})
    elif isinstance(exc, ProtectedError):
        return Response(
            {"detail": "This object is still in use and cannot be deleted."}, status=status.HTTP_409_CONFLICT
        )
    return drf_exception_handler(exc, context)
