from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from devices.dav.views import well_known

urlpatterns = [
    path("admin/", admin.site.urls),
    # allauth's own pages for social accounts would start flows calendarsync does not use: send them to ours.
    re_path(r"^accounts/3rdparty/", RedirectView.as_view(pattern_name="calendarsync:settings")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/sync/", include("calendarsync.api.urls")),
    path("api/v1/", include("crm.api.urls")),
    path("settings/sync/", include("calendarsync.urls")),
    path(".well-known/caldav", well_known),  # RFC 6764: where calendar apps look first
    path("", include("devices.urls")),
    path("", include("crm.urls")),
]
