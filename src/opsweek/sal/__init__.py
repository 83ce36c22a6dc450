"""The Server Admin Log: entries from IRC, the CLI, the web and every opsweek action."""
