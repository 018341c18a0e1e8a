from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/sync/", include("calendarsync.api.urls")),
    path("api/v1/", include("crm.api.urls")),
    path("settings/sync/", include("calendarsync.urls")),
    path("", include("crm.urls")),
]
