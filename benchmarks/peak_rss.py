"""Print the peak RSS (MB) of a command: ``python benchmarks/peak_rss.py CMD [ARGS...]``.

A process forked from the (large) benchmark would report the benchmark's own memory as
its peak, because Linux keeps the high-water mark of the memory it had before ``exec``;
forking from this small launcher keeps the figure the command's own.
"""

from __future__ import annotations

import resource
import subprocess
import sys

if __name__ == "__main__":
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
