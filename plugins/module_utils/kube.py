# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster access shared by the collection's modules.

The connection comes from kubernetes.core (K8S_AUTH_* environment, kubeconfig,
or the usual module options), so every module authenticates the same way as
kubernetes.core.k8s. On top of it: plain-dict reads and writes that honour
check mode, readable summaries of conditions and events for error messages, and
one polling wait that returns as soon as its test says done or failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
except ImportError:  # kubernetes.core's client reports the missing library
    class DynamicApiError(Exception):
        pass

    class NotFoundError(DynamicApiError):
        pass

    class ResourceNotFoundError(Exception):
        pass

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client


class WaitFailed(Exception):
    """A wait ended: the object reached a failure state or time ran out."""


def conditions_text(obj):
    """'Ready=False (Reason: message); ...' for an object's status.conditions."""
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    parts = []
    for cond in conds:
        text = "{0}={1}".format(cond.get("type", cond.get("phase", "?")), cond.get("status", "?"))
        detail = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
        parts.append(text + (" ({0})".format(detail) if detail else ""))
    return "; ".join(parts) or "no conditions reported"


def ref(obj_or_kind, namespace=None, name=None):
    """'Kind namespace/name' for messages."""
    if isinstance(obj_or_kind, dict):
        meta = obj_or_kind.get("metadata", {})
        obj_or_kind, namespace, name = obj_or_kind.get("kind"), meta.get("namespace"), meta.get("name")
    return "{0} {1}".format(obj_or_kind, "{0}/{1}".format(namespace, name) if namespace else name)


class Kube:
    """Reads and writes of whole objects as dicts; no writes in check mode."""

    def __init__(self, module):
        self.module = module
        self.client = get_api_client(module)
        self.check_mode = module.check_mode

    def _resource(self, api_version, kind):
        return self.client.resource(kind, api_version)

    def get(self, api_version, kind, name, namespace=None):
        try:
            return self._resource(api_version, kind).get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except ResourceNotFoundError:
            return None  # the kind itself is not served (yet)

    def list(self, api_version, kind, namespace=None, label_selector=None):
        try:
            res = self._resource(api_version, kind).get(namespace=namespace, label_selector=label_selector)
        except ResourceNotFoundError:
            return []
        return [item.to_dict() for item in res.items]

    def create(self, body):
        if self.check_mode:
            return body
        res = self._resource(body["apiVersion"], body["kind"])
        return res.create(body=body, namespace=body["metadata"].get("namespace")).to_dict()

    def merge_patch(self, api_version, kind, name, namespace, patch):
        if self.check_mode:
            return patch
        res = self._resource(api_version, kind)
        return res.patch(body=patch, name=name, namespace=namespace,
                         content_type="application/merge-patch+json").to_dict()

    def delete(self, api_version, kind, name, namespace=None):
        """Delete; True when something was (or in check mode would be) deleted."""
        if self.get(api_version, kind, name, namespace) is None:
            return False
        if not self.check_mode:
            try:
                self._resource(api_version, kind).delete(name=name, namespace=namespace)
            except NotFoundError:
                return False
        return True

    def events(self, obj, limit=5):
        """The latest events about obj, oldest first, as text lines."""
        meta = obj.get("metadata", {}) if obj else {}
        if not meta.get("name"):
            return []
        selector = "involvedObject.name={0}".format(meta["name"])
        try:
            res = self._resource("v1", "Event").get(namespace=meta.get("namespace"), field_selector=selector)
        except Exception:  # events are a courtesy in error messages, never a reason to fail
            return []
        items = sorted((e.to_dict() for e in res.items),
                       key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        return ["{0} {1}: {2}".format(e.get("type", ""), e.get("reason", ""), e.get("message", ""))
                for e in items[-limit:]]

    def wait(self, probe, timeout, interval=1.0):
        """Call probe() until it returns (True, value); (False, msg) is a failure
        that ends the wait at once; (None, msg) means not yet. On timeout raise
        WaitFailed with the last message."""
        deadline = time.monotonic() + timeout
        while True:
            done, value = probe()
            if done:
                return value
            if done is False:
                raise WaitFailed(value)
            if time.monotonic() >= deadline:
                raise WaitFailed("timed out after {0}s: {1}".format(timeout, value))
            time.sleep(interval)

    def crd_established(self, name):
        crd = self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
        if crd is None:
            return None, "CustomResourceDefinition {0} does not exist yet".format(name)
        for cond in (crd.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Established" and cond.get("status") == "True":
                # Discovery is cached per client: a CRD established after the
                # first lookup is only seen after invalidation.
                self.client.resources.invalidate_cache()
                return True, crd
        return None, "CustomResourceDefinition {0} not Established: {1}".format(name, conditions_text(crd))
