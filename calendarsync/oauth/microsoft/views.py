from allauth.socialaccount.providers.microsoft.views import MicrosoftGraphOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView

from .. import clients
from ..scopes import KeepsGrantedScope


class MicrosoftAdapter(KeepsGrantedScope, MicrosoftGraphOAuth2Adapter):
    """allauth's Microsoft adapter (its URLs come from the app's settings, see adapter.list_apps), with the
    sandbox's consent page where browsers can open it."""

    @property
    def authorize_url(self):
        client = clients.offered("microsoft")
        return client.authorize_url if client and client.authorize_url else super().authorize_url


oauth2_login = OAuth2LoginView.adapter_view(MicrosoftAdapter)
oauth2_callback = OAuth2CallbackView.adapter_view(MicrosoftAdapter)
