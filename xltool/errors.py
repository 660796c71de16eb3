"""The one base class of every error xltool raises on purpose.

Each stage subclasses it (SpecError, RosterError, GuardError, CheckError, CombineError, …);
every message is Chinese and says what is wrong and what to do, so a shell (CLI, web) can
show ``str(e)`` to a clerk and never a traceback. Imports nothing, so every layer may use it.
"""

from __future__ import annotations


class XltoolError(ValueError):
    """Raised for bad input or an impossible request; the message is for the clerk."""
