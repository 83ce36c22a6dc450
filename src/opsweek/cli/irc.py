"""``opsweek irc``: the SAL bot in the team's IRC channel."""

import threading

import typer

from opsweek.cli.output import JsonOption, console, fail, print_json
from opsweek.cli.state import state


def irc(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Run the SAL bot: records `!log` lines and answers `!opsweek who|alerts` (Ctrl-C stops)."""
    from opsweek.bot.ircbot import BotConfig, SalBot, run_supervised

    ops = state(ctx).app
    settings = ops.settings
    config = BotConfig.from_settings(settings.irc, settings.sal, settings.web.base_url)
    if not config.server:
        fail("irc.server is not set (opsweek.toml [irc] server = ... or OPSWEEK_IRC_SERVER)")
    started = {
        "server": f"{config.server}:{config.port}",
        "nick": config.nick,
        "channels": list(config.channels),
        "tls": config.tls,
    }
    if json_:
        print_json(started)
    else:
        console.print(
            f"SAL bot {config.nick} on {started['server']} in {', '.join(config.channels)}"
        )
    stop = threading.Event()
    try:
        run_supervised(lambda: SalBot(config, ops), stop)
    except KeyboardInterrupt:
        stop.set()
        console.print("stopped")
