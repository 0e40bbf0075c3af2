"""Views a real project would not ship, each making one claim of the template measurable.
Every response names the process that served it."""

import os
import time

from django.http import JsonResponse

LEAKED: list[bytes] = []  # what leak() never gives back


def leak(request):
    """Keeps ?kib= of fresh, written (so resident) memory forever, like an unbounded cache."""
    kib = int(request.GET.get("kib", "64"))
    LEAKED.append(b"\x01" * (kib << 10))
    return JsonResponse({"pid": os.getpid(), "leaked_kib": kib * len(LEAKED)})


def cpu(request):
    """Burns ?ms= of this thread's own CPU time in pure Python, holding the GIL throughout.
    CPU time, not wall time: two such requests sharing a core or a GIL take twice as long."""
    milliseconds = float(request.GET.get("ms", "20"))
    deadline = time.thread_time() + milliseconds / 1000
    rounds = 0
    while time.thread_time() < deadline:
        sum(i * i for i in range(500))
        rounds += 1
    return JsonResponse({"pid": os.getpid(), "rounds": rounds})
