"""Views a real project would not ship: each imitates one way a production app misbehaves.
Every response names the worker process that served it, so that tests can tell workers apart,
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
    """Waits like a view blocked on a slow API or database: ?ms=1000."""
    milliseconds = float(request.GET.get("ms", "1000"))
    time.sleep(milliseconds / 1000)
    return _answer(slept_ms=milliseconds)


def cpu(request):
    """Burns ?ms= of this thread's own CPU time, holding the GIL as pure Python does.
    CPU time, not wall time: two such requests sharing one core or one GIL take twice as long."""
    deadline = time.thread_time() + float(request.GET.get("ms", "20")) / 1000
    rounds = 0
    while time.thread_time() < deadline:
        sum(i * i for i in range(500))
        rounds += 1
    return _answer(rounds=rounds)


def leak(request):
    """Keeps ?kib= of fresh, written (so resident) memory forever, like an unbounded cache."""
    kib = int(request.GET.get("kib", "64"))
    LEAKED.append(b"\x01" * (kib << 10))
    return _answer(leaked_kib=kib * len(LEAKED))


def exit_process(request):
    """Ends the worker mid-request without a word, like a crashing C extension."""
    os._exit(70)
