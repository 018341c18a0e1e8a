from allauth.socialaccount.providers.microsoft.views import MicrosoftGraphOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView


class MicrosoftAdapter(MicrosoftGraphOAuth2Adapter):
    """allauth's Microsoft adapter (its URLs come from the app's settings, see adapter.list_apps)."""

    def parse_token(self, data):
        token = super().parse_token(data)
        token.granted_scope = data.get("scope", "")
        return token


oauth2_login = OAuth2LoginView.adapter_view(MicrosoftAdapter)
oauth2_callback = OAuth2CallbackView.adapter_view(MicrosoftAdapter)
