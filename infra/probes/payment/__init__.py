"""`verify payment`: prove one subscription end to end, in test mode by itself, in live mode with a person.

`steps` runs named steps with progress and time and always cleans up;
`flows` holds the test-mode and live-mode sequences; `command` reads the
flags, the key (never from argv) and prints the result.
"""
