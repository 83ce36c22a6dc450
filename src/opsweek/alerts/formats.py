"""The formats an input arrives in (kept apart so the CLI names them without loading the
alert model)."""

EMAIL, MBOX, MAILDIR, ALERTMANAGER, LOG = "email", "mbox", "maildir", "alertmanager", "log"
CHECK = "check"  # a finding of opsweek's own checks (JSON)
FORMATS = (EMAIL, MBOX, MAILDIR, ALERTMANAGER, LOG, CHECK)
AUTO = "auto"  # the format told from the input itself
