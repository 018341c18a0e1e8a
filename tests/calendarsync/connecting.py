"""Helpers to connect accounts through the real OAuth flow: Django's test client on our side, the
sandbox's consent page over HTTP on the provider's side."""

import re
import urllib.parse

from django.urls import reverse

from tests.conftest import then_the_worker


def start(client, provider, account=None):
    """Press Connect (or Reconnect); return the consent page's URL at the provider."""
    response = client.post(reverse("calendarsync:connect", args=[provider]),
                           {"account": account.pk} if account else {})
    assert response.status_code == 302, response.content
    return response["Location"]


def consent(web, authorize_url, *, email, decision="allow", ungrant=()):
    """Answer the sandbox's consent page as a person would; return our callback URL it sends back to."""
    page = web.get(authorize_url)
    assert page.status_code == 200, page.text
    assert email in page.text
    form = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize_url).query))
    offered = re.findall(r'name="granted" value="([^"]+)"', page.text)
    answer = web.post(authorize_url.split("?")[0], allow_redirects=False, data={
        **form, "consent": "1", "email": email, "decision": decision,
        "granted": [scope for scope in offered if scope not in ungrant]})
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def finish(client, callback_url):
    """Bring the provider's answer to our callback, and return the page the user lands on; meanwhile the worker
    reads the account's calendars, as it would once the callback has answered."""
    split = urllib.parse.urlsplit(callback_url)
    with then_the_worker():
        answer = client.get(f"{split.path}?{split.query}")
    while answer.status_code == 302:
        answer = client.get(answer["Location"])
    return answer


def connect(client, web, provider, email, *, decision="allow", account=None, ungrant=()):
    return finish(client, consent(web, start(client, provider, account), email=email, decision=decision,
                                  ungrant=ungrant))
