"""The Thursday handoff: the week's report, its charts, decisions, reminders, and posting it
once."""
