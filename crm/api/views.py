"""The REST API for mobile and other clients. Viewsets check permissions and call crm services."""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from crm import filters, selectors, services
from crm.api import serializers
from crm.api.availability import warnings_of
from crm.api.mixins import UserTimeZoneMixin
from crm.api.permissions import CanEditAction, ProfilePermissions
from crm.api.preconditions import IF_MATCH, matches
from crm.models import Action
from crm.signals import agenda_opened

WINDOW_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME, description=(
        "With `end`: return the occurrences overlapping [start, end), recurring series expanded, "
        "instead of the actions themselves. A bare date means midnight in the user's zone.")),
    OpenApiParameter("end", OpenApiTypes.DATETIME, description="End of the window (exclusive)."),
]


STALE = OpenApiResponse(serializers.ActionSerializer,
                        description="Changed since the If-Match version: the current one.")


@extend_schema_view(
    list=extend_schema(parameters=WINDOW_PARAMETERS),
    update=extend_schema(parameters=[IF_MATCH], responses={200: serializers.ActionWrittenSerializer, 412: STALE}),
    partial_update=extend_schema(parameters=[IF_MATCH],
                                 responses={200: serializers.ActionWrittenSerializer, 412: STALE}),
    destroy=extend_schema(parameters=[IF_MATCH], responses={204: None, 412: STALE}),
)
class ActionViewSet(UserTimeZoneMixin, viewsets.ModelViewSet):
    """Actions the user may see; writes need the profile's permission and, for others' actions,
    `change_all_actions`."""

    serializer_class = serializers.ActionSerializer
    permission_classes = [permissions.IsAuthenticated, ProfilePermissions, CanEditAction]
    filterset_class = filters.ActionFilter
    search_fields = filters.ACTION_SEARCH
    ordering_fields = ["span_start", "updated_at", "subject"]

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return serializers.ActionWrittenSerializer
        return serializers.ActionSerializer

    def get_queryset(self):
        return (
            selectors.chronological(selectors.actions_visible_to(self.request.user))
            .select_related("action_type", "owner", "company", "series")
            .prefetch_related("participants", "contacts")
        )

    def list(self, request, *args, **kwargs):
        if not {"start", "end"} & request.query_params.keys():
            return super().list(request, *args, **kwargs)
        window = serializers.WindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        agenda_opened.send(sender=self.__class__, user=request.user)  # a mobile agenda, as the web one (G5)
        # The rows alone (read-only, in no order: occurrences are sorted), in one query with their people's and
        # contacts' ids and their types' colors.
        actions = self.filter_queryset(selectors.actions_visible_to(request.user))
        occurrences = selectors.occurrences_between(actions=actions, zone=timezone.get_current_timezone(),
                                                    read_only=True, **window.validated_data)
        page = self.paginate_queryset(occurrences)
        data = serializers.OccurrenceSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        if request.headers.get("If-None-Match") == response.data["etag"]:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response.data["etag"]})
        response["ETag"] = response.data["etag"]
        return response

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response["ETag"] = response.data["etag"]
        return response

    def update(self, request, *args, **kwargs):
        with transaction.atomic():  # the version compared is the one written over: the row is locked meanwhile
            refused = self._stale(request, self.get_object())
            if refused is not None:
                return refused
            response = super().update(request, *args, **kwargs)
        response["ETag"] = response.data["etag"]
        return response

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            refused = self._stale(request, self.get_object())
            return refused or super().destroy(request, *args, **kwargs)

    def _stale(self, request, action, occurrence_key=""):
        """The 412 to answer when If-Match names another version than the current one, else None."""
        action.updated_at = Action.objects.select_for_update().values_list("updated_at", flat=True).get(pk=action.pk)
        if occurrence_key:
            current = selectors.occurrence_of(action=action, recurrence_id=occurrence_key)
            selectors.with_people_ids([current.action])
            data = serializers.OccurrenceSerializer(current, context=self.get_serializer_context()).data
        else:
            data = serializers.ActionSerializer(action, context=self.get_serializer_context()).data
        if matches(request, data["etag"]):
            return None
        return Response(data, status=status.HTTP_412_PRECONDITION_FAILED, headers={"ETag": data["etag"]})

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        self._check_owner(fields.setdefault("owner", self.request.user))
        serializer.instance = services.action_create(
            participants=fields.pop("participants", ()), contacts=fields.pop("contacts", ()), **fields
        )
        serializer.context["warnings"] = warnings_of(self.request, serializer.instance)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        if "owner" in fields:
            self._check_owner(fields["owner"])
        serializer.instance = services.action_update(
            action=serializer.instance, participants=fields.pop("participants", None),
            contacts=fields.pop("contacts", None), **fields,
        )
        serializer.context["warnings"] = warnings_of(self.request, serializer.instance)

    def perform_destroy(self, instance):
        services.action_delete(action=instance)

    @extend_schema(request=serializers.OccurrenceChangeSerializer, parameters=[IF_MATCH],
                   responses={200: serializers.OccurrenceSerializer, 204: None, 412: STALE})
    @action(detail=True, methods=["get", "patch", "delete"], url_path=r"occurrences/(?P<recurrence_id>[0-9TZ]+)")
    def occurrence(self, request, pk=None, recurrence_id=None):
        """Read, change (it becomes an override) or cancel one occurrence of a series."""
        series = self.get_object()
        if not series.is_series:
            raise ValidationError({"recurrence_id": ["This action is not a recurring series."]})
        if request.method == "GET":
            return self._occurrence_answer(request, series, recurrence_id)
        with transaction.atomic():
            refused = self._stale(request, series, recurrence_id)
            return refused or self._occurrence_change(request, series, recurrence_id)

    def _occurrence_change(self, request, series, recurrence_id):
        if request.method == "PATCH":
            change = serializers.OccurrenceChangeSerializer(data=request.data, partial=True)
            change.is_valid(raise_exception=True)
            fields = dict(change.validated_data)
            services.occurrence_update(
                series=series, recurrence_id=recurrence_id, participants=fields.pop("participants", None),
                contacts=fields.pop("contacts", None), **fields,
            )
        else:
            services.occurrence_cancel(series=series, recurrence_id=recurrence_id)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._occurrence_answer(request, series, recurrence_id, changed=True)

    def _occurrence_answer(self, request, series, recurrence_id, *, changed=False):
        occurrence = selectors.occurrence_of(action=series, recurrence_id=recurrence_id)
        selectors.with_people_ids([occurrence.action])
        data = serializers.OccurrenceSerializer(occurrence, context=self.get_serializer_context()).data
        if changed:  # whose busy times the moved or changed occurrence meets
            data = {**data, "warnings": warnings_of(request, series, occurrence)}
        return Response(data, headers={"ETag": data["etag"]})

    def _check_owner(self, owner):
        if owner != self.request.user and not self.request.user.has_perm("crm.change_all_actions"):
            raise PermissionDenied("Your profile does not allow creating or moving actions for someone else.")


class ActionTypeViewSet(UserTimeZoneMixin, viewsets.ReadOnlyModelViewSet):
    """The active action types; `is_appointment` ones are what external calendars sync."""

    serializer_class = serializers.ActionTypeSerializer
    queryset = selectors.action_types_active()
    pagination_class = None


class SavedByServiceMixin:
    """Save through the entity's service instead of serializer.save()."""

    def perform_create(self, serializer):
        serializer.instance = self.save_record(serializer.Meta.model(), serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.save_record(serializer.instance, serializer.validated_data)


class CompanyViewSet(UserTimeZoneMixin, SavedByServiceMixin, viewsets.ModelViewSet):
    serializer_class = serializers.CompanySerializer
    permission_classes = [permissions.IsAuthenticated, ProfilePermissions]
    filterset_class = filters.CompanyFilter
    search_fields = filters.COMPANY_SEARCH
    ordering_fields = ["name", "city", "updated_at"]

    def get_queryset(self):
        return selectors.companies_all()

    def save_record(self, company, fields):
        return services.company_save(company=company, **fields)


class ContactViewSet(UserTimeZoneMixin, SavedByServiceMixin, viewsets.ModelViewSet):
    serializer_class = serializers.ContactSerializer
    permission_classes = [permissions.IsAuthenticated, ProfilePermissions]
    filterset_class = filters.ContactFilter
    search_fields = filters.CONTACT_SEARCH
    ordering_fields = ["last_name", "updated_at"]

    def get_queryset(self):
        return selectors.contacts_all()

    def save_record(self, contact, fields):
        return services.contact_save(contact=contact, **fields)


class UserViewSet(UserTimeZoneMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Active users, to pick participants."""

    serializer_class = serializers.UserSummarySerializer
    search_fields = ["username", "first_name", "last_name"]

    def get_queryset(self):
        return selectors.users_active()


class MeView(UserTimeZoneMixin, generics.RetrieveUpdateAPIView):
    """The signed-in user: profile, permissions and preferences (time zone)."""

    serializer_class = serializers.UserSerializer

    def get_object(self):
        return self.request.user


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (POST), or revoke yours (DELETE)."""

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_authenticators(self):
        if self.request is not None and self.request.method == "POST":
            return []  # a client that sends stale credentials can still get a new token
        return super().get_authenticators()

    @extend_schema(responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

