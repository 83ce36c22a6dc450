"""Onboarding a new user: which of the checklist's steps are already true."""
