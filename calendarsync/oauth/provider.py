"""The providers allauth registers: its own Google and Microsoft ones, reading their URLs from clients.py."""

from .google.provider import GoogleCalendarProvider
from .microsoft.provider import MicrosoftCalendarProvider

provider_classes = [GoogleCalendarProvider, MicrosoftCalendarProvider]
