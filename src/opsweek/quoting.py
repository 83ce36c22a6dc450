"""Putting outside values into text meant for a channel: a shell command, Hive/Spark SQL, a
URL, an IRC line, a line of wikitext. Each channel has its own quoting, and one is never used
for another: a value in SQL is a SQL literal or identifier, a value in a shell command is a
shell word.

Every function refuses (raises ``Unquotable``) a value it cannot place safely, rather than
guess; callers leave the command out and say why."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from urllib.parse import quote, urlsplit


class Unquotable(ValueError):
    """A value that cannot be placed safely in the channel asked for."""


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# words a shell reads as themselves, so they need no quotes (no glob, tilde or brace)
PLAIN_WORD = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+\Z")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+\Z")
# what RFC 3986 lets a URI hold: unreserved, reserved (gen- and sub-delims) and escapes
URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*\Z")
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


# --- shell ---------------------------------------------------------------------------------
def shell_word(value: object) -> str:
    """One shell word for ``value``: quoted unless plainly safe. A value starting with '-'
    would be read as an option, and a control character has no place on a command line:
    both are refused."""
    text = _text(value)
    if not text:
        raise Unquotable("an empty value")
    if CONTROL.search(text):
        raise Unquotable(f"a control character in {text!r}")
    if text.startswith("-"):
        raise Unquotable(f"{text!r} would be read as an option")
    return text if PLAIN_WORD.match(text) else shlex.quote(text)


def shell_join(words: Iterable[object]) -> str:
    """A command line from already-safe argv words (program names, flags and values the
    caller checked); each is quoted as needed."""
    out = []
    for word in words:
        text = _text(word)
        if CONTROL.search(text):
            raise Unquotable(f"a control character in {text!r}")
        out.append(text if PLAIN_WORD.match(text) else shlex.quote(text))
    return " ".join(out)


# --- Hive / Spark SQL ----------------------------------------------------------------------
def sql_string(value: object) -> str:
    """A Hive/Spark SQL string literal: single quotes, with backslash and quote escaped
    (both dialects read backslash escapes in literals)."""
    text = _text(value)
    if CONTROL.search(text):
        raise Unquotable(f"a control character in {text!r}")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_int(value: object) -> str:
    """A SQL integer literal; refuses anything that is not a whole number."""
    text = _text(value).strip()
    if not re.fullmatch(r"-?\d{1,18}", text):
        raise Unquotable(f"{text!r} is not a whole number")
    return str(int(text))


def sql_identifier(value: object) -> str:
    """A backquoted identifier (database, table or column name)."""
    text = _text(value)
    if not IDENTIFIER.match(text):
        raise Unquotable(f"{text!r} is not a plain SQL name")
    return f"`{text}`"


def sql_table(value: object) -> str:
    """``db.table`` as two backquoted identifiers."""
    database, dot, table = _text(value).partition(".")
    if not dot:
        raise Unquotable(f"{value!r} is not a db.table name")
    return f"{sql_identifier(database)}.{sql_identifier(table)}"


# --- URLs ----------------------------------------------------------------------------------
def url(value: object) -> str:
    """A whole http(s) URL taken from outside, as a URI (RFC 3986): what a URI may hold is
    kept (apostrophes, parentheses and percent-escapes of wiki anchors included), characters
    beyond ASCII are percent-encoded as UTF-8 (a host in IDNA), anything else is refused
    with the reason: another scheme, no host, a space, a quote, a bracket that is no URI's.
    Each output channel still escapes it its own way (an HTML attribute, a Slack link)."""
    text = _text(value).strip()
    if not text or CONTROL.search(text) or re.search(r"\s", text):
        raise Unquotable(f"{text!r} is not a URL: it holds a space or a control character")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError as exc:
        raise Unquotable(f"{text!r} is not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Unquotable(f"{text!r} is not an http(s) URL")
    if not host:
        raise Unquotable(f"{text!r} is not a URL: it names no host")
    if not host.isascii():
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise Unquotable(f"{text!r} is not a URL: its host is not a host name") from None
        text = text.replace(parts.netloc, parts.netloc.replace(host, ascii_host), 1)
    uri = quote(text, safe="".join(chr(c) for c in range(33, 127)))  # non-ASCII only
    bad = next((c for c in uri if not URI_CHARS.match(c)), None)
    if bad is not None:
        raise Unquotable(f"{text!r} is not a URL: {bad!r} has no place in one")
    if BAD_ESCAPE.search(uri):
        raise Unquotable(f"{text!r} is not a URL: a '%' that is not an escape")
    return uri


def url_component(value: object) -> str:
    """A path segment or query value, percent-encoded."""
    return quote(_text(value), safe="")


# --- IRC -----------------------------------------------------------------------------------
def irc_text(value: object, limit: int = 400) -> str:
    """Text for one IRC line: control characters (newlines, IRC formatting) become spaces, and
    the line is cut to ``limit`` characters so it fits one message."""
    text = " ".join(CONTROL.sub(" ", _text(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- wikitext ------------------------------------------------------------------------------
WIKI_MARKUP = re.compile(r"[&<>\[\]{}]|'{2,}|~{3,}|_{2,}")


def wikitext(value: object) -> str:
    """Text inside one line of wikitext (after a list item's start), shown as written: links,
    templates, tags and entities (``[ ] { } < > &``), bold or italic quotes, signatures and
    ``__MAGIC__`` words become character references, never markup. One line: control
    characters become spaces. ``html.unescape`` gives the text back."""
    text = " ".join(CONTROL.sub(" ", _text(value)).split())
    return WIKI_MARKUP.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), text)


# --- Slack ---------------------------------------------------------------------------------
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}\Z")


def slack_text(value: object) -> str:
    """Outside text in a Slack message: ``&``, ``<`` and ``>`` escaped as Slack asks, so
    ``<!channel>``, ``<@U...>`` or ``<url|label>`` in it are shown, never acted on."""
    return _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mention(user_id: object) -> str:
    """A mention of a Slack user id (``<@U0123>``), or the id as text when it is not one."""
    text = _text(user_id)
    return f"<@{text}>" if SLACK_USER.match(text) else slack_text(text)


# --- e-mail headers ------------------------------------------------------------------------
def header_text(value: object, limit: int = 200) -> str:
    """Text for a mail header: one line (no CR or LF that would start another header)."""
    return irc_text(value, limit)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
