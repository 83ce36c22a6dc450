"""Running a printed command as a person would paste it, with every program it calls replaced
by a recording stub: ``bash -n`` first, then ``bash -c`` with a PATH holding only the stubs.

Each stub writes its argv exactly as received. Wrappers record themselves and run the rest:
``sudo -u U`` and ``kerberos-run-command U`` (noting the user and principal), ``ssh HOST cmd``
and ``cumin QUERY cmd`` (running the remote command in a shell, as the remote side does,
noting where). ``cd`` is a shell function that records the directory. A program that is not
stubbed is not found (exit 127), so a command calling something unexpected fails its test."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

BASH = "/bin/bash"
WRAPPERS = frozenset({"sudo", "kerberos-run-command", "ssh", "cumin", "cd"})
TOOLS = frozenset(
    {
        *WRAPPERS,
        "airflow",
        "analytics-mysql",
        "beeline",
        "git",
        "grep",
        "hdfs",
        "helmfile",
        "hive",
        "journalctl",
        "jstack",
        "kubectl",
        "mysql",
        "opsweek",
        "rm",
        "scp",
        "spark3-sql",
        "systemctl",
        "tail",
        "tee",
        "yarn",
    }
)

RECORDER = r'''#!{python}
"""A recording stub (tests/conformance/harness.py)."""
import json, os, posixpath, sys

name, args = os.path.basename(sys.argv[0]), sys.argv[1:]
env = dict(os.environ)


def record(prog, argv):
    line = {
        "prog": prog,
        "argv": argv,
        "host": env.get("STUB_HOST", ""),
        "user": env.get("STUB_USER", ""),
        "principal": env.get("STUB_PRINCIPAL", ""),
        "cwd": env.get("STUB_CWD", ""),
    }
    with open(env["STUB_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


def fail(message):
    sys.stderr.write(f"{name}: {message}\n")
    sys.exit(2)


def run(words, **changes):
    if not words:
        fail("nothing to run")
    env.update(changes)
    try:
        os.execvpe(words[0], words, env)
    except FileNotFoundError:
        sys.stderr.write(f"{words[0]}: command not found (not a stubbed tool)\n")
        sys.exit(127)


def remote(host, command):
    """The remote side runs the command line in its shell."""
    env["STUB_HOST"] = host
    os.execve(env["STUB_BASH"], [env["STUB_BASH"], "-c", env["STUB_PRELUDE"] + command], env)


if name == "cd":
    target = args[-1] if args else "~"
    base = env.get("STUB_CWD") or "~"
    path = posixpath.normpath(target if target.startswith("/") else posixpath.join(base, target))
    record("cd", args)
    print(f"export STUB_CWD={path}")
    sys.exit(0)
record(name, args)
if name == "sudo":
    user = "root"
    while args and args[0].startswith("-"):
        if args[0] == "-u" and len(args) > 1:
            user, args = args[1], args[2:]
        elif args[0] == "--":
            args = args[1:]
            break
        else:
            fail(f"unexpected option {args[0]}")
    run(args, STUB_USER=user)
if name == "kerberos-run-command":
    if len(args) < 2:
        fail("usage: kerberos-run-command USER COMMAND...")
    run(args[1:], STUB_PRINCIPAL=args[0])
if name == "ssh":
    while args and args[0].startswith("-"):
        if args[0] in ("-o", "-p", "-i", "-l", "-J") and len(args) > 1:
            args = args[2:]
        elif args[0] in ("-t", "-T", "-A", "-q"):
            args = args[1:]
        else:
            fail(f"unexpected option {args[0]}")
    if not args:
        fail("no host")
    if len(args) > 1:
        remote(args[0], " ".join(args[1:]))
    sys.exit(0)
if name == "cumin":
    if len(args) != 2:
        fail("usage: cumin QUERY COMMAND")
    remote(f"cumin({args[0]})", args[1])
canned = json.loads(env.get("STUB_CANNED") or "{}")
if not sys.stdin.isatty():
    sys.stdin.read()
sys.stdout.write(canned.get(" ".join([name, *args]), ""))
'''

# ``cd`` is a builtin: a function records it and keeps the directory in STUB_CWD
PRELUDE = 'cd() { eval "$("$STUB_BIN/cd" "$@")"; }\n'


@dataclass(frozen=True)
class Call:
    """One program run: what it was given, as who, where."""

    prog: str
    argv: tuple[str, ...]
    host: str = ""
    user: str = ""
    principal: str = ""
    cwd: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Call:
        return cls(
            str(data["prog"]),
            tuple(data["argv"]),  # type: ignore[arg-type]
            str(data["host"]),
            str(data["user"]),
            str(data["principal"]),
            str(data["cwd"]),
        )


def call(
    prog: str, *argv: str, host: str = "", user: str = "", principal: str = "", cwd: str = ""
) -> Call:
    return Call(prog, argv, host, user, principal, cwd)


@dataclass
class Shell:
    """A directory of stubs and the runs made with them."""

    root: Path
    extra: Iterable[str] = ()
    canned: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bin = self.root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        recorder = self.bin / "recorder"
        recorder.write_text(RECORDER.replace("{python}", sys.executable), encoding="utf-8")
        recorder.chmod(0o755)
        for tool in {*TOOLS, *self.extra}:
            link = self.bin / tool
            if not link.exists():
                link.symlink_to(recorder)
        self.home = self.root / "home"
        self.home.mkdir(exist_ok=True)

    def syntax(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BASH, "-n", "-c", command], capture_output=True, text=True, timeout=30, check=False
        )

    def run(self, command: str, host: str = "") -> list[Call]:
        """Every call ``command`` makes, wrappers included, in order. Fails unless bash
        accepts the command and every program it calls is a stub that ran."""
        checked = self.syntax(command)
        assert checked.returncode == 0, f"bash -n refuses {command!r}: {checked.stderr}"
        log = self.root / "calls.jsonl"
        log.unlink(missing_ok=True)
        env = {
            "PATH": str(self.bin),
            "HOME": str(self.home),
            "STUB_BIN": str(self.bin),
            "STUB_BASH": BASH,
            "STUB_PRELUDE": PRELUDE,
            "STUB_LOG": str(log),
            "STUB_HOST": host,
            "STUB_CANNED": json.dumps(self.canned),
            "LC_ALL": "C",
        }
        done = subprocess.run(
            [BASH, "-c", PRELUDE + command],
            env=env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{command!r} exited {done.returncode}: {done.stderr}"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [Call.from_json(json.loads(line)) for line in lines]


def leaves(calls: Iterable[Call]) -> list[Call]:
    """The calls that do the work: wrappers left out (their effect is in each call's user,
    principal, host and directory)."""
    return [c for c in calls if c.prog not in WRAPPERS]
