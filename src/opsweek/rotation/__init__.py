"""Who is on ops-week duty: people, availability, the schedule solver, swaps, iCalendar."""
