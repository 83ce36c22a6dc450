"""The IRC bot: the SAL's `!log` on the team channel, its answers and commands."""
