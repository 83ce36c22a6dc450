"""Demo data for the embedded default: a team, its rotation, a week of alerts and duties, and
the local stand-ins (git repositories, files, hosts, tables) the train, offboarding and checks
read, so opsweek can be tried at once."""

from opsweek.demo.seed import DemoResult, reset, seed

__all__ = ["DemoResult", "reset", "seed"]
