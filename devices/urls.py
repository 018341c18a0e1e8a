from django.urls import path, re_path

from devices import feeds, views
from devices.dav.views import DavView

app_name = "devices"

urlpatterns = [
    path("settings/devices/", views.devices_page, name="page"),
    path("settings/devices/calendars/<str:key>/", views.calendar_switch, name="calendar-switch"),
    path("settings/devices/calendars/<str:key>/feeds/", views.feeds_renew, name="feeds-renew"),
    path("settings/devices/passwords/<int:pk>/revoke/", views.password_revoke, name="password-revoke"),
    path("feeds/<str:secret>.ics", feeds.feed, name="feed"),
    path("feeds/<str:secret>.vfb", feeds.free_busy_feed, name="free-busy-feed"),
    path("dav/", DavView.as_view(), name="dav-root"),
    re_path(r"^dav/(?P<path>.+)$", DavView.as_view(), name="dav"),
]
