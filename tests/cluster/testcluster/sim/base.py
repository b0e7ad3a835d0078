"""A polling reconcile loop over the Kubernetes API.

Polling every half second is plenty for tests and keeps each controller a
plain function of the current state: no watch bookkeeping, no missed events.
"""
import logging
import time
import traceback

from kubernetes import client, config
from kubernetes.client.rest import ApiException

LOG = logging.getLogger("sim")


class Controller:
    """Subclasses implement reconcile(); errors are logged, never fatal."""

    name = "controller"

    def __init__(self, api_client):
        self.api = api_client
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.storage = client.StorageV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)

    def reconcile(self):
        raise NotImplementedError

    def log(self, msg, *args):
        LOG.info("[%s] " + msg, self.name, *args)


def ignore_missing(fn, *args, **kwargs):
    """Call fn; a 404 (already gone) or 409 (already there) is not an error."""
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        if exc.status in (404, 409):
            return None
        raise


def run(kubeconfig, controllers, interval=0.5):
    api_client = config.new_client_from_config(config_file=kubeconfig)
    instances = [c(api_client) for c in controllers]
    LOG.info("simulators running: %s", ", ".join(c.name for c in instances))
    while True:
        for ctl in instances:
            try:
                ctl.reconcile()
            except Exception:  # pylint: disable=broad-except
                LOG.error("[%s] reconcile failed:\n%s", ctl.name, traceback.format_exc())
        time.sleep(interval)
