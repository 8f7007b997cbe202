"""``volplan watch``: the long-running reconciler (events, timed syncs, safe heals, metrics).

Below the CLI and above the stages it runs: it drives ``pipeline`` and the one apply use
case (``apply.locked_apply``) and reaches the engine only through the ``Engine`` it is given.
"""
