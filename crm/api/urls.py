from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from crm.api import availability, changes, views

router = DefaultRouter()
router.register("actions", views.ActionViewSet, basename="action")
router.register("action-types", views.ActionTypeViewSet, basename="action-type")
router.register("companies", views.CompanyViewSet, basename="company")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("", include(router.urls)),
    path("me/", views.MeView.as_view(), name="me"),
    path("changes/", changes.ChangesView.as_view(), name="changes"),
    path("availability/", availability.AvailabilityView.as_view(), name="availability"),
    path("availability/slots/", availability.SlotsView.as_view(), name="availability-slots"),
    path("availability/overlaps/", availability.OverlapsView.as_view(), name="availability-overlaps"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
