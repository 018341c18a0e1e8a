from django.urls import include, path
from rest_framework.routers import DefaultRouter

from calendarsync.api import views

router = DefaultRouter()
router.register("accounts", views.ExternalAccountViewSet, basename="sync-account")
router.register("calendars", views.RemoteCalendarViewSet, basename="sync-calendar")

urlpatterns = [
    path("", include(router.urls)),
    path("providers/", views.ProvidersView.as_view(), name="sync-providers"),
]
