from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.utils.functional import cached_property

from .. import clients
from ..scopes import KeepsGrantedScope


class GoogleAdapter(KeepsGrantedScope, GoogleOAuth2Adapter):
    """allauth's Google adapter, with URLs read per request (allauth reads its own once, at import)."""

    offered = cached_property(lambda self: clients.offered("google"))  # one adapter per request
    authorize_url = property(lambda self: self.offered.authorize_url)
    access_token_url = property(lambda self: self.offered.token_url)
    identity_url = property(lambda self: self.offered.userinfo_url)


oauth2_login = OAuth2LoginView.adapter_view(GoogleAdapter)
oauth2_callback = OAuth2CallbackView.adapter_view(GoogleAdapter)
