"""The web app: FastAPI, thin over the services. ``create_app`` builds it."""

from opsweek.web.app import create_app

__all__ = ["create_app"]
