"""allauth, held to one job: run the OAuth consent and hand the result to calendarsync's services.

Nothing allauth would normally do with a social login happens here: no SocialAccount is saved, no
one is logged in or signed up. `pre_social_login` takes the tokens and stops the flow with a
redirect, so an external calendar account can never become a way to log in.
"""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from calendarsync import app_settings, selectors, services
from calendarsync.models import ExternalAccount

from . import clients

SETTINGS_PAGE = "calendarsync:settings"
log = logging.getLogger(__name__)


class ConnectionAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        """One app per provider offered: a real client (environment or admin) or the sandbox's."""
        apps = []
        for name in ("google", "microsoft"):
            if provider and provider != name:
                continue
            client = clients.offered(name)
            if client is None or (client_id and client_id != client.client_id):
                continue
            settings = {"oauth_pkce_enabled": True}
            if name == "microsoft":
                settings.update(login_url=client.login_url, graph_url=client.graph_url,
                                tenant=app_settings.MICROSOFT_TENANT)
            apps.append(SocialApp(provider=name, name=name, client_id=client.client_id, secret=client.secret,
                                  settings=settings))
        return apps

    def get_requests_session(self):
        """Trust the Microsoft sandbox's test CA for its URLs (and only there: real Google keeps the system's)."""
        session = super().get_requests_session()
        client = clients.offered("microsoft")
        if client and client.ca_bundle:
            send = session.request

            def request(method, url, **kwargs):
                if url.startswith((client.login_url, client.graph_url)):
                    kwargs.setdefault("verify", client.ca_bundle)  # an explicit verify beats REQUESTS_CA_BUNDLE
                return send(method, url, **kwargs)

            session.request = request
        return session

    @method_decorator(sensitive_variables("token"))
    def pre_social_login(self, request, sociallogin):
        state = sociallogin.state or {}
        data = state.get("data") or {}
        if state.get("process") != "connect" or not data.get("calendarsync") or not request.user.is_authenticated:
            messages.error(request, _("External calendar accounts cannot be used to log in. Log in, then connect "
                                      "the account from External synchronization."))
            raise ImmediateHttpResponse(redirect("account_login"))
        provider = sociallogin.account.provider
        client = clients.offered(provider)
        reconnect = ExternalAccount.objects.filter(pk=data.get("reconnect"), user=request.user).first() \
            if data.get("reconnect") else None
        token, extra = sociallogin.token, sociallogin.account.extra_data or {}
        email = (sociallogin.user.email or extra.get("email") or extra.get("mail")
                 or extra.get("userPrincipalName") or "")
        name = extra.get("name") or extra.get("displayName") or ""
        try:
            account = services.account_connect(
                request.user, provider=provider, remote_id=sociallogin.account.uid, email=email, name=name,
                access_token=token.token, refresh_token=token.token_secret, expires_at=token.expires_at,
                scopes=getattr(token, "granted_scope", ""), sandbox=bool(client and client.sandbox),
                reconnect=reconnect)
        except (services.Refused, services.Invalid) as exc:
            messages.error(request, str(exc))
        else:
            if account.is_active:
                messages.success(request, _("%(account)s is connected. Choose the calendars to sync.") % {
                    "account": account})
            else:
                messages.warning(request, _("%(account)s is connected, but %(problem)s") % {
                    "account": account, "problem": selectors.account_problem(account)})
        raise ImmediateHttpResponse(redirect(SETTINGS_PAGE))

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        if error == "cancelled":
            messages.warning(request, _("Connection cancelled: %(provider)s was not given access.") % {
                "provider": provider.name})
        else:  # the detail (a provider's answer) goes to the log, not on the page
            log.warning("Connecting %s failed: %s %s", provider.id, error, exception)
            messages.error(request, _("The connection to %(provider)s failed. Try again; if it keeps failing, tell "
                                      "an administrator.") % {"provider": provider.name})
        raise ImmediateHttpResponse(redirect(SETTINGS_PAGE))

    def is_open_for_signup(self, request, sociallogin):
        return False
