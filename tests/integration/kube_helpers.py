"""Small helpers the simulator tests share: wait until a probe answers, read an object."""
import json
import time


def wait_for(what, fn, timeout=30, interval=0.3):
    """fn's first truthy answer within timeout seconds, else AssertionError naming what and the last answer."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def get(kube, *args):
    """The object kubectl get returns as a dict, or None when it is not there."""
    res = kube.kubectl("get", *args, "-o", "json", check=False)
    return json.loads(res.stdout) if res.returncode == 0 else None
