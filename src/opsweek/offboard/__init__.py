"""Offboarding a departed user: scan every leftover, plan archive and removal, execute it."""
