"""Recurring duties, their occurrences, and the handoff report."""
