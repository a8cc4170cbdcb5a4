"""`billing go-live`: the go-live runbook as one guided, resumable command.

command (the parser and the run), steps (the ordered steps and how each knows it
is done), context (the facts and what the run did), terminal (questions, hidden
input, the acts counted), setup, deploy and proof (what the steps do), reuse
(the host token a person already has, offered before its form), inputs (the
files a preview read, so the yes applies what was previewed), engine (the pulumi
CLI's preview and update, each with a deadline, counted from its event log).
"""
