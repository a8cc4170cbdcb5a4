"""Exit statuses: one meaning each, because CI gates read them.

Every command returns one of these. A crash must never look like success or
like "warnings", so an unexpected exception is INTERNAL, never 0, 1 or 2.
"""

from __future__ import annotations

OK = 0
"""Nothing to report: validated, planned, every check passed, no risky change."""
FINDINGS = 1
"""The command ran and found something: a `verify` check failed, `diff` has warnings, or what `pull`
wrote is not yet valid (its problems printed)."""
REFUSED = 2
"""Bad input or a refused change: nothing was applied; the message names file, line, field and fix."""
INTERNAL = 3
"""An internal error (a bug, or an answer nothing was written to handle): one line, trace on request."""
