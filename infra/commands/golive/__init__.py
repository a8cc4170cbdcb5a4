"""`billing go-live`: the go-live runbook as one guided, resumable command.

command (the parser and the run), steps (the ordered steps and how each knows it
is done), context (the facts and what the run did), terminal (questions, hidden
input, the acts counted), setup, deploy and proof (what the steps do), reuse
(the host token a person already has, offered before its form), engine (the
Automation API).
"""
