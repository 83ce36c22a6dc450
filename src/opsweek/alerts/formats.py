"""The formats an input arrives in (kept apart so the CLI names them without loading the
alert model)."""

EMAIL, MBOX, MAILDIR, ALERTMANAGER, LOG = "email", "mbox", "maildir", "alertmanager", "log"
CHECK = "check"  # a finding of opsweek's own checks (JSON)
AIRFLOW = "airflow"  # a task instance read from Airflow's REST API (JSON)
FORMATS = (EMAIL, MBOX, MAILDIR, ALERTMANAGER, LOG, CHECK, AIRFLOW)
AUTO = "auto"  # the format told from the input itself
