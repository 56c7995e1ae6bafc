"""Settings for the processes the Celery integration tests start (workers, sweeps).

The project's settings, plus the reminder tunables read from the environment, so that a
test can give a worker a short claim timeout or a small back-off without changing the
project's defaults.
"""

import os

from config.settings import *  # noqa: F403

_TUNABLES = {
    "REMINDER_CLAIM_TIMEOUT_SECONDS": float,
    "REMINDER_MAX_ATTEMPTS": int,
    "REMINDER_RETRY_BACKOFF_SECONDS": float,
}
for _name, _cast in _TUNABLES.items():
    if _name in os.environ:
        globals()[_name] = _cast(os.environ[_name])
