"""The sync settings for mobile clients: the same choices as the web page, under the same permissions.

Connecting a Google or Microsoft account needs a browser (the provider's consent screen): clients open
`connect_url`. A CalDAV account is added here with its address, user name and app password.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calendarsync import jobs, presets, selectors, services
from calendarsync.api.serializers import (
    CalDAVAccountSerializer,
    CalDAVReconnectSerializer,
    ExternalAccountSerializer,
    ProviderSerializer,
    RemoteCalendarSerializer,
)
from calendarsync.models import ExternalAccount, Provider, RemoteCalendar

ERROR = inline_serializer("Error", {"detail": drf_serializers.CharField()})


class ProvidersView(APIView):
    @extend_schema(responses=ProviderSerializer(many=True))
    def get(self, request):
        connect_url = request.build_absolute_uri(reverse("calendarsync:settings"))
        rows = [{"provider": offer.provider.value, "name": offer.provider.label, "available": offer.available,
                 "sandbox": bool(offer.client and offer.client.sandbox), "connect_url": connect_url,
                 "refusal": offer.refusal, "needs_browser": offer.oauth}
                for offer in selectors.offers_for(request.user)]
        return Response(ProviderSerializer(rows, many=True).data)


class ExternalAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                             viewsets.GenericViewSet):
    """The user's connected accounts; CalDAV ones are added and reconnected here too."""

    serializer_class = ExternalAccountSerializer

    queryset = ExternalAccount.objects.none()  # for the schema; requests see their own accounts only

    def get_queryset(self):
        return ExternalAccount.objects.filter(user=self.request.user).order_by("provider", "email")

    @extend_schema(request=CalDAVAccountSerializer, responses={202: ExternalAccountSerializer, 400: ERROR, 403: ERROR})
    def create(self, request):
        """Add a CalDAV account (the same address and user name again: its password is replaced). The answer
        does not wait for the server: a worker finds the calendars; `calendars_refreshed_at` moves on when they
        are listed, and `problem_text` says what went wrong if nothing could be found."""
        return self._caldav(request, None)

    @extend_schema(request=CalDAVReconnectSerializer, responses={202: ExternalAccountSerializer, 400: ERROR,
                                                                 403: ERROR, 404: ERROR})
    @action(detail=True, methods=["post"])
    def reconnect(self, request, pk=None):
        """Give a CalDAV account a new app password (and, if it moved, its address or user name). Google and
        Microsoft accounts reconnect in a browser, at `reconnect_url`: a 400 says so."""
        account = self.get_object()
        if account.provider != Provider.CALDAV:
            return Response({"detail": "This account reconnects through its provider's consent, in a browser: "
                                       "open its reconnect_url."}, status=400)
        return self._caldav(request, account)

    def _caldav(self, request, account):
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": "Send an object: preset, server_url, username, password."})
        kept = {"preset": account.preset if presets.find(account.preset) else "generic",
                "server_url": account.server_url, "username": account.username} if account is not None else {}
        given = CalDAVAccountSerializer(data=kept | dict(request.data.items()))
        if not given.is_valid():  # in one sentence, as every refusal of these endpoints
            raise ValidationError({"detail": "; ".join(f"{field}: {' '.join(map(str, errors))}"
                                                       for field, errors in given.errors.items())})
        try:
            account = services.caldav_connect(request.user, reconnect=account, **given.validated_data)
        except services.Refused as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.Invalid as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(account).data, status=202)

    @extend_schema(responses={204: None, 400: ERROR}, parameters=[OpenApiParameter(
        "appointments", OpenApiTypes.STR, enum=["keep", "remove"], required=True,
        description="What becomes of the appointments that came from the account: kept as plain CRM "
                    "appointments, or removed.")])
    def destroy(self, request, *args, **kwargs):
        """Disconnect the account: nothing syncs through it any more."""
        try:
            services.account_disconnect(self.get_object(), appointments=request.query_params.get("appointments"))
        except services.Invalid as exc:
            raise ValidationError({"appointments": [str(exc)]}) from exc
        return Response(status=204)

    @extend_schema(request=None, responses={202: ExternalAccountSerializer, 409: ERROR})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Have the account's calendars read from the provider again, by a worker: the answer does not wait.
        `calendars_refreshed_at` moves on when they have been read; then list them."""
        account = self.get_object()
        if not account.is_active:
            return Response({"detail": selectors.account_problem(account)}, status=409)
        jobs.refresh_calendars(account.pk, force=True)
        return Response(self.get_serializer(account).data, status=202)


class RemoteCalendarViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                            viewsets.GenericViewSet):
    serializer_class = RemoteCalendarSerializer
    filterset_fields = ["account", "selected"]
    http_method_names = ["get", "patch", "head", "options"]

    queryset = RemoteCalendar.objects.none()

    def get_queryset(self):
        return selectors.calendars_of(self.request.user).order_by("account", "-is_primary", "name")

    @extend_schema(responses={200: RemoteCalendarSerializer, 400: ERROR, 403: ERROR}, description=(
        "Change how the calendar syncs. A choice the user's profile does not allow (provider, direction, more "
        "calendars than its limit) is a 403 whose `detail` says why; an impossible one (export to a read-only "
        "calendar, no action type, a missing date) is a 400."))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        try:
            serializer.instance = services.calendar_configure(self.request.user, serializer.instance,
                                                              **serializer.validated_data)
        except services.Refused as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.Invalid as exc:
            raise ValidationError({"detail": str(exc)}) from exc
