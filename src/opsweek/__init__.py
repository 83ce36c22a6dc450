"""opsweek: the ops-week assistant for data-platform teams."""

__version__ = "0.1.0"
