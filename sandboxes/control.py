"""Control endpoints every sandbox has: reset, injected faults and counters (/__sandbox__/...)."""

from . import state
from .http import Fault, Response

PREFIX = "/__sandbox__"
FAULT_FIELDS = ("status", "body", "retry_after", "drop", "latency", "times", "method", "path")


def install_common(service, *, reset, report=dict):
    """Add POST reset, POST/DELETE faults, GET/DELETE counters and GET/PUT state.

    `reset` gives the service a fresh store; `report` adds the sandbox's own figures to counters.
    """

    def forget_everything(request):
        reset()
        service.faults.clear()
        service.counters.clear()
        return Response.json({"ok": True})

    def faults(request):
        if request.method == "DELETE":
            service.faults.clear()
        else:
            data = request.json()
            service.faults.add(Fault(**{key: data[key] for key in FAULT_FIELDS if key in data}))
        return Response.json({"ok": True})

    def counters(request):
        if request.method == "DELETE":
            service.counters.clear()
            service.forget_history()
            return Response.json({"ok": True})
        return Response.json({"requests": service.counters.snapshot(), "seconds": service.counters.seconds,
                              **report()})

    def snapshot(request):
        if request.method == "PUT":
            state.restore(service.store, request.json())
            return Response.json({"ok": True})
        return Response.json(state.dump(service.store))

    service.router.add("POST", f"{PREFIX}/reset", forget_everything, "reset")
    for method in ("GET", "PUT"):
        service.router.add(method, f"{PREFIX}/state", snapshot)
    for method in ("POST", "DELETE"):
        service.router.add(method, f"{PREFIX}/faults", faults)
    for method in ("GET", "DELETE"):
        service.router.add(method, f"{PREFIX}/counters", counters)
