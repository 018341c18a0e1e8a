from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by administrators, so the public sign-up form is closed."""

    def is_open_for_signup(self, request):
        return False
