from django.urls import path

from calendarsync import views

app_name = "calendarsync"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("connect/caldav/", views.caldav_add, name="caldav-add"),
    path("connect/<str:provider>/", views.connect, name="connect"),
    path("accounts/<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("calendars/<int:pk>/", views.calendar_update, name="calendar-update"),
    path("calendars/<int:pk>/sync/", views.calendar_sync, name="calendar-sync"),
    path("calendars/<int:pk>/resume/", views.calendar_resume, name="calendar-resume"),
    path("conflicts/<int:pk>/restore/", views.conflict_restore, name="conflict-restore"),
    path("trash/<int:pk>/restore/", views.trash_restore, name="trash-restore"),
]
