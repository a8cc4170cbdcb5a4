import os
import sys

from infra.cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader went away (`... | head`): stop quietly, as the Python docs advise,
    # pointing stdout at devnull so the flush at exit cannot raise again.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 1
sys.exit(code)
