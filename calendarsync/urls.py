from django.urls import path

from calendarsync import views

app_name = "calendarsync"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("connect/<str:provider>/", views.connect, name="connect"),
    path("accounts/<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("calendars/<int:pk>/", views.calendar_update, name="calendar-update"),
]
