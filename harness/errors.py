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
