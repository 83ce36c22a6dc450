"""opsweek's own checks: the runbook's daily questions and manual procedures as code."""
