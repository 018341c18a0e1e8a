"""Connecting external accounts: allauth runs the OAuth flows, this package says where and with which client."""
