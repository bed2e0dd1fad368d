"""Errors vocclean reports to the user (one line, exit code 2), never as tracebacks."""


class VoccleanError(Exception):
    """A usage or I/O problem that stops the run: the message says what to do next."""

    exit_code = 2
