"""An e-mail backend that hangs: it marks that a send began, then never finishes.

Used to catch a worker between claiming a notification and sending it, so that the test
can kill it there (SIGKILL) and check that another worker sends the notification, once.
"""

import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class BlockingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        Path(os.environ["BLOCKING_MARKER"]).write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("BLOCKING_SECONDS", "300")))
        raise RuntimeError("the blocking backend was expected to be killed")
