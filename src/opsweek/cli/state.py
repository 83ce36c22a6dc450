"""What every command shares: the composition root (`opsweek.app.App`), built on first use
from the settings of ``--config`` (a command that needs neither reads nothing)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from opsweek.app import App
from opsweek.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from opsweek.db.session import Store


class State:
    def __init__(self, config_path: Path | None = None) -> None:
        self.config_path = config_path
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App(load_settings(self.config_path))
        return self._app

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def store(self) -> "Store":
        return self.app.store

    @contextmanager
    def session(self) -> "Iterator[Session]":
        with self.app.session() as session:
            yield session

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj
