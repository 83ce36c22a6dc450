"""Recurring and on-demand duties, their occurrences, the deployment train and Today."""
