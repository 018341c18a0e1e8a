"""What both OAuth adapters add to allauth's token parsing."""


class KeepsGrantedScope:
    """Keep the scopes the provider says it granted on the token: allauth keeps no record of them, and the
    account needs them to tell the user what is missing."""

    def parse_token(self, data):
        token = super().parse_token(data)
        token.granted_scope = data.get("scope", "")
        return token
