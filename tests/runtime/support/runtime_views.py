"""Views a real project would not ship: each imitates one way a production app misbehaves.
Every response names the worker process that served it, so tests can tell workers apart,
and the CPU time that process has used since it was forked."""

import os
import time

from django.http import JsonResponse

LEAKED: list[bytes] = []  # what leak() never gives back


def _answer(**fields) -> JsonResponse:
    return JsonResponse({"pid": os.getpid(), "cpu_seconds": time.process_time(), **fields})


def pid(request):
    return _answer()


def sleep(request):
    """Waits like a view blocked on a slow API or database: ?seconds=1."""
    seconds = float(request.GET.get("seconds", "1"))
    time.sleep(seconds)
    return _answer(slept=seconds)


def cpu(request):
    """Burns ?seconds= of this thread's own CPU time, holding the GIL as pure Python does.
    CPU time, not wall time: two such requests sharing one core or one GIL take twice as long."""
    seconds = float(request.GET.get("seconds", "0.4"))
    deadline = time.thread_time() + seconds
    rounds = 0
    while time.thread_time() < deadline:
        sum(i * i for i in range(1000))
        rounds += 1
    return _answer(rounds=rounds)


def leak(request):
    """Keeps ?megabytes= of fresh, written (so resident) memory forever, like a growing cache."""
    megabytes = int(request.GET.get("megabytes", "1"))
    LEAKED.append(b"\x01" * (megabytes << 20))
    return _answer(leaked_megabytes=megabytes * len(LEAKED))


def exit_process(request):
    """Ends the worker mid-request without a word, like a crashing C extension."""
    os._exit(70)
