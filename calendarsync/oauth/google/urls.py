from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from .provider import GoogleCalendarProvider

urlpatterns = default_urlpatterns(GoogleCalendarProvider)
