"""The Google sandbox: OAuth token endpoint and Calendar API v3 (see api.GoogleSandbox)."""
