"""opsweek: the ops-week assistant for data-platform teams."""

__version__ = "0.2.0"
