"""What a printed command must be, per language, and the check of a step against it.

- shell: the programs it runs, each with its argv exactly, as who and where (`Sh`);
- sql: the statement exactly, parsed in its dialect (`Sql`; run where an engine can: see
  test_sql.py);
- url: the link exactly, an http(s) URL (`Url`);
- irc: the line exactly, one line with no control characters, a `!log` (`Irc`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlglot
from sqlglot.errors import ErrorLevel

from opsweek.steps import Step
from tests.conformance.cli_args import parse_cli
from tests.conformance.harness import Call, Shell, leaves


@dataclass(frozen=True)
class Sh:
    calls: tuple[Call, ...]
    host: str = ""

    def check(self, step: Step, shell: Shell) -> None:
        assert step.lang == "shell", step
        assert step.host == self.host, f"runs on {step.host!r}, expected {self.host!r}"
        got = leaves(shell.run(step.command, step.host))
        assert sorted(got, key=repr) == sorted(self.calls, key=repr), (
            f"{step.command!r} ran\n{got}\nexpected\n{list(self.calls)}"
        )
        for run in got:
            if run.prog == "opsweek":
                parse_cli(run.argv)  # and opsweek's own CLI takes it


def sh(*calls: Call, host: str = "") -> Sh:
    """Calls as run on ``host`` (each call's own host defaults to it)."""
    placed = tuple(Call(c.prog, c.argv, c.host or host, c.user, c.principal, c.cwd) for c in calls)
    return Sh(placed, host)


# Hive statements sqlglot only tokenizes: checked against Hive's own grammar for them
HIVE_ONLY = {
    "msck": re.compile(
        r"^msck repair table `\w+`\.`\w+`(?: (?:add|drop|sync) partitions)?;$", re.IGNORECASE
    ),
    "alter_owner": re.compile(
        r"^ALTER TABLE `\w+`\.`\w+` SET OWNER (?:USER|ROLE) [a-z_][a-z0-9_-]*;$"
    ),
}


def parse_hive(statement: str) -> sqlglot.exp.Expression:
    """The statement parsed as Hive SQL; statements sqlglot does not model (MSCK, SET OWNER)
    must match Hive's grammar for them."""
    text = statement.strip()
    for grammar in HIVE_ONLY.values():
        if grammar.match(text):
            return sqlglot.exp.Command(this=text)
    (parsed,) = sqlglot.parse(text, read="hive", error_level=ErrorLevel.RAISE)
    assert parsed is not None and not isinstance(parsed, sqlglot.exp.Command), (
        f"not parsed as Hive SQL: {statement!r}"
    )
    return parsed


@dataclass(frozen=True)
class Sql:
    text: str
    host: str = "a stat host"  # a Hive or Spark SQL shell there

    def check(self, step: Step, shell: Shell) -> None:
        assert step.lang == "sql", step
        assert step.host == self.host, f"runs on {step.host!r}, expected {self.host!r}"
        assert step.command == self.text
        parse_hive(step.command)


@dataclass(frozen=True)
class Url:
    text: str

    def check(self, step: Step, shell: Shell) -> None:
        assert step.lang == "url", step
        assert step.command == self.text
        parts = urlsplit(step.command)
        assert parts.scheme in ("http", "https") and parts.netloc
        assert not re.search(r"[\s\"'<>`]", step.command)


@dataclass(frozen=True)
class Irc:
    text: str

    def check(self, step: Step, shell: Shell) -> None:
        assert step.lang == "irc", step
        assert step.command == self.text
        assert step.command.startswith("!log ")
        assert not re.search(r"[\x00-\x1f\x7f]", step.command)
        assert len(step.command.encode()) <= 450  # one IRC message with its prefix


Expect = Sh | Sql | Url | Irc
