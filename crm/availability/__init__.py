"""Availability: when people are busy, from the CRM and from every calendar they connected.

intervals.py is the pure part (merging, working hours, free slots); sources.py is where other apps plug in
the busy times the CRM does not hold (calendarsync: live free/busy of calendars it does not import);
selectors.py answers for a set of people and a window, as a given viewer may see it.
"""
