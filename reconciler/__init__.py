"""volplan: a declarative reconciler for Docker volume topology.

The package is a pipeline of stages with plain data between them::

    spec files --spec.loader--> DesiredState
    engine     --live_reader--> LiveState
    (DesiredState, LiveState) --differ--> Diff
    Diff --planner--> Plan --render.*--> text / json      (the dry run stops here)
    Plan --applier (through engine.adapter)--> ApplyReport

Only ``engine.adapter`` imports the docker SDK.
"""

__version__ = "0.1.0"
