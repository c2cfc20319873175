"""Errors that spicenn raises on purpose. The CLI prints them as one line, no traceback."""


class SpicennError(Exception):
    """Base class: a problem the user can fix, described in one line."""


class InputError(SpicennError, ValueError):
    """Bad user input: shapes, non-finite or out-of-range values, unknown names."""


class SpiceNotFoundError(SpicennError):
    """ngspice (the program or its shared library) is not installed or cannot be loaded."""


class SpiceError(SpicennError):
    """ngspice ran but failed: parse errors, a singular matrix, a crash."""


class ConvergenceError(SpiceError):
    """The circuit did not converge even with gmin and source stepping."""


class SpicennWarning(UserWarning):
    """Something the user should know that does not stop the work (the CLI prints one line)."""
