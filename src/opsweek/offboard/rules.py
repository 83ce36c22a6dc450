"""What may be touched when offboarding a user (pure): the user name must be a plain login,
and removal is allowed only inside the user's own places."""

from __future__ import annotations

import posixpath
import re

from opsweek.errors import BadInput

USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
HOME_DIRS = ("/srv/home/{user}", "/home/{user}")
USERARCHIVE = "/var/userarchive"


def check_user(user: str) -> str:
    """The user name, or BadInput: no '/', '..', glob or shell characters, no upper case."""
    if not isinstance(user, str) or not USER.match(user):
        raise BadInput(
            f"refusing user name {user!r}: expected a login name (lower-case letters, digits, "
            "'_' and '-', starting with a letter or '_', at most 32 characters)"
        )
    return user


def user_databases(user: str, databases: list[str]) -> list[str]:
    """Databases named after the user: the user's name, or it followed by '_'."""
    return sorted(d for d in databases if d == user or d.startswith(f"{user}_"))


def is_user_database(user: str, database: str) -> bool:
    return database == user or database.startswith(f"{user}_")


def normal(path: str) -> str:
    """An absolute, normalised POSIX path ('..' refused rather than resolved)."""
    if not path.startswith("/") or "\x00" in path:
        raise BadInput(f"not an absolute path: {path!r}")
    if ".." in path.split("/"):
        raise BadInput(f"refusing a path with '..': {path!r}")
    return posixpath.normpath(path)


def inside(path: str, root: str) -> bool:
    path, root = normal(path), normal(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def removable_hdfs(user: str, path: str, warehouse: str) -> bool:
    """HDFS paths an offboarding may remove: the user's home, and the warehouse directories of
    the user's databases."""
    path = normal(path)
    if inside(path, f"/user/{user}"):
        return True
    parent, name = posixpath.split(path)
    if parent == normal(warehouse) and name.endswith(".db"):
        return is_user_database(user, name[: -len(".db")])
    return False


def removable_host_path(user: str, path: str) -> bool:
    path = normal(path)
    if path in {home.format(user=user) for home in HOME_DIRS}:
        return True
    parent, name = posixpath.split(path)
    return parent == USERARCHIVE and (name == user or name.startswith(f"{user}."))
