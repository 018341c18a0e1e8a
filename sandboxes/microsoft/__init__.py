"""The Microsoft sandbox: identity platform (for MSAL and allauth) and Graph v1.0's calendar API."""
