"""Where the runbook's commands run, and as whom: the team's hosts and accounts (the `[cluster]`
settings, and `refine.jobs`), filled into every step opsweek prints or runs. Input (an alert, an
e-mail, a plan) fills values; the program, the host and the user come from here, never from
it. Pure: the composition root builds one from the settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}\Z")
LOGIN = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
PROGRAM = re.compile(r"^[A-Za-z0-9_./-]{1,200}\Z")
JOB = re.compile(r"^[A-Za-z0-9_.-]{1,200}\Z")

# The Refine jobs of refinery's timers (operations/puppet profile::analytics::refinery::job::
# refine and its sanitize jobs): a Refine e-mail names one of these, or opsweek runs nothing.
REFINE_JOBS = (
    "refine_event",
    "refine_eventlogging_analytics",
    "refine_eventlogging_legacy",
    "refine_mediawiki_job_events",
    "refine_netflow",
    "refine_sanitize_eventlogging_analytics",
    "refine_sanitize_eventlogging_analytics_immediate",
    "refine_sanitize_eventlogging_analytics_delayed",
    "refine_event_sanitized_main_immediate",
    "refine_event_sanitized_main_delayed",
    "refine_event_sanitized_analytics_immediate",
    "refine_event_sanitized_analytics_delayed",
)


# systemd units that run on the launcher, by name (the runbook: refinery's jobs, sqoop, the
# canary events producer, reportupdater, the deletion scripts)
LAUNCHER_UNITS = (
    "refinery-*",
    "refine_*",
    "monitor_refine*",
    "*sqoop*",
    "produce_canary_events*",
    "reportupdater-*",
    "drop-*",
    "hdfs-cleaner*",
)


@dataclass(frozen=True)
class AirflowCli:
    """Where an Airflow instance's CLI is run, and as whom (``[[airflow.instances]]``
    ``cli_host``, ``cli_user``, ``cli``): its steps print ``sudo -u USER PROGRAM ...`` there.
    An instance without one is acted on from its UI or from opsweek."""

    instance: str
    host: str
    user: str = ""
    program: str = "airflow"

    def argv(self) -> list[str]:
        return ["sudo", "-u", self.user, self.program] if self.user else [self.program]

    def check_cli(self) -> AirflowCli:
        if not HOST.match(self.host):
            raise ValueError(f"cli_host {self.host!r} is not a host name")
        if self.user and not LOGIN.match(self.user):
            raise ValueError(f"cli_user {self.user!r} is not an account")
        if not PROGRAM.match(self.program):
            raise ValueError(f"cli {self.program!r} is not a program")
        return self


@dataclass(frozen=True)
class Site:
    launcher: str = "an-launcher1002.eqiad.wmnet"  # refinery's jobs and timers, Kerberos
    cumin: str = "cumin1001.eqiad.wmnet"  # cumin runs commands on many hosts from here
    deployment: str = "deployment.eqiad.wmnet"  # helmfile deploys
    cloud_replica: str = "an-redacteddb1001.eqiad.wmnet"  # the cloud (labs) wiki replicas
    cloud_replica_user: str = "s53272"  # their account (the runbook's)
    jobs_user: str = "analytics"  # the account the data jobs run as
    hdfs_user: str = "hdfs"  # the HDFS superuser
    kerberos: str = "kerberos-run-command"  # runs a command with an account's keytab
    refine_jobs: tuple[str, ...] = REFINE_JOBS
    launcher_units: tuple[str, ...] = LAUNCHER_UNITS
    airflow_clis: tuple[AirflowCli, ...] = ()

    def check(self) -> Site:
        """This site, or ValueError naming the first value that is not a host, an account or
        a program name (they go into commands unquoted by nobody's choice but the team's)."""
        for name, pattern in (
            ("launcher", HOST),
            ("cumin", HOST),
            ("deployment", HOST),
            ("cloud_replica", HOST),
            ("cloud_replica_user", LOGIN),
            ("jobs_user", LOGIN),
            ("hdfs_user", LOGIN),
            ("kerberos", PROGRAM),
        ):
            if not pattern.match(getattr(self, name)):
                raise ValueError(f"cluster.{name} {getattr(self, name)!r} is not valid")
        for job in self.refine_jobs:
            if not JOB.match(job):
                raise ValueError(f"refine.jobs: {job!r} is not a job name")
        return self

    def airflow_cli(self, instance: str) -> AirflowCli | None:
        """The CLI of an Airflow instance (``airflow-analytics`` or ``analytics``)."""
        name = instance.removeprefix("airflow-")
        return next((c for c in self.airflow_clis if c.instance == name), None)

    def unit_host(self, unit: str) -> str:
        """Where a systemd unit runs when a mail does not say: the launcher for the units of
        ``launcher_units``; "" for any other."""
        name = unit.removesuffix(".service").removesuffix(".timer")
        matched = any(fnmatchcase(name, pattern) for pattern in self.launcher_units)
        return self.launcher if name and matched else ""

    def as_kerberos(self, user: str) -> list[str]:
        """The words that run a command as ``user`` with its keytab, as the runbook does."""
        return ["sudo", "-u", user, self.kerberos, user]

    def values(self) -> dict[str, Any]:
        """What the runbook's templates read as ``{site.<name>}``."""
        return {
            "launcher": self.launcher,
            "cumin": self.cumin,
            "deployment": self.deployment,
            "cloud_replica": self.cloud_replica,
            "cloud_replica_user": self.cloud_replica_user,
            "jobs_user": self.jobs_user,
            "hdfs_user": self.hdfs_user,
            "kerberos": self.kerberos,
        }


DEFAULT_SITE = Site()
