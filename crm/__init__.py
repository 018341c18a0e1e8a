"""The CRM domain: users and profiles, companies, contacts, action types and actions.

`crm` never imports `calendarsync`: it announces changes through the signals in crm.signals.
"""
