"""Error types with messages a user can act on; the CLI maps them to exit codes."""
from __future__ import annotations


class HarnessError(Exception):
    """Base of every error the harness raises on purpose; the CLI prints it as one line."""

    exit_code = 2


class UsageError(HarnessError):
    """Bad input on the command line or in a configuration: unknown names, wrong types."""


class PluginError(HarnessError):
    """A plugin could not be loaded or registered something invalid (duplicates, bad records)."""


class StageContractError(HarnessError):
    """A stage returned outputs that do not match its declared contract."""

    exit_code = 3


class DeviceError(HarnessError):
    """The requested compute device is not available."""


class NotApplicable(Exception):
    """Raised by a check whose inputs exist but do not call for it here; the message says why."""


class StorageError(HarnessError):
    """A file or folder could not be written or read (unwritable path, full disk): the user must fix it."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by Ctrl-C (exit 130) or SIGTERM (exit 143); completed stages stay cached.

    Not an error a caller may catch and carry on from (a ledger must stop too), so not a HarnessError.
    """

    def __init__(self, message: str, exit_code: int = 130):
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """Raised in place of dying on SIGTERM, so cleanup runs as it does for Ctrl-C."""


def storage_error(exc: OSError, what: str, advice: str, path: object = None) -> StorageError:
    """One actionable line for an OSError: what failed, on which path, why, and what to do.

    `path` names the file the user knows when the error's own path is a temporary name.
    """
    reason = exc.strerror or str(exc)
    return StorageError(f"cannot {what} {path or exc.filename or '?'}: {reason}; {advice}")
