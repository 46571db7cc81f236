"""The ground floor: what every feature and front end builds on, importing nothing else of ours.

Errors, the event bus and the infrastructure events, the acting user and the service context,
the runtime's ``Service`` contract, clock helpers, input validation, storage failures, paths,
secrets and logging. Qt-free; ``tests/test_architecture.py`` keeps it below everything else.
"""
