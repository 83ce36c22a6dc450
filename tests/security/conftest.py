"""The web app fixtures of tests/web, for the attacks tried here."""

from tests.web.conftest import client, token, web_store

__all__ = ["client", "token", "web_store"]
