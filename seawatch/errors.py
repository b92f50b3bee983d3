"""The one exception type a seawatch function raises when it is called wrongly.

Streams never raise on bad *data* (they count and quarantine it); functions raise
:class:`SeawatchError` on bad *use*, with a message that says how to fix it.
"""


class SeawatchError(Exception):
    """A user mistake: wrong argument, missing file, unknown table. The message says what to do."""
