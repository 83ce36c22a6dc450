"""The alert inbox: one parser per source kind, triage into deduplicated alerts, runbook steps."""
