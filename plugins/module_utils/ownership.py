# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection created, and so may change or delete.

The record is a marker label set only when the collection creates an object:
``app.kubernetes.io/managed-by: rhdh.orchestrator`` on Namespaces (module
``namespace``) and ``orchestrator.rhdh.redhat.com/installed-by: rhdh.orchestrator``
on the objects of an operator release manifest (module ``manifest``). An object
that exists without it was there before the collection: it is used as it is,
reported, never relabelled and never deleted.

Plain logic over an ``api`` object, so it is unit tested with a fake:

- ``get(api_version, kind, name, namespace=None)`` -> dict or None
- ``create(body)`` -> dict
- ``merge_patch(api_version, kind, name, namespace, patch)`` -> dict
- ``apply(body, field_manager, dry_run=False)`` -> dict (server-side apply, conflicts forced)
- ``delete(api_version, kind, name, namespace=None)`` -> bool

Writes are never called in check mode (``apply`` only with ``dry_run=True``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time

NAMESPACE_MARKER = {"app.kubernetes.io/managed-by": "rhdh.orchestrator"}
MANIFEST_MARKER = {"orchestrator.rhdh.redhat.com/installed-by": "rhdh.orchestrator"}
# A Namespace carrying either was created by the collection (by the namespace
# module, or as a document of an operator manifest).
NAMESPACE_MARKERS = (NAMESPACE_MARKER, MANIFEST_MARKER)
# On a Namespace: the keys (comma-separated) of the labels the namespace module
# added with label_existing, so that state=unlabeled takes back exactly those.
ADDED_LABELS_ANNOTATION = "orchestrator.rhdh.redhat.com/added-labels"
# Left out when telling whether an apply changed an object.
VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation")


class OwnershipError(Exception):
    """Input that cannot be applied, or a wait that ran out; the message says which."""


def labels(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def added_labels(obj):
    """The label keys recorded in ADDED_LABELS_ANNOTATION, in their order."""
    text = (((obj or {}).get("metadata") or {}).get("annotations") or {}).get(ADDED_LABELS_ANNOTATION) or ""
    return [key.strip() for key in text.split(",") if key.strip()]


def carries(obj, marker):
    """True when obj has every label of marker, with the same values."""
    have = labels(obj)
    return bool(marker) and all(have.get(k) == v for k, v in marker.items())


def is_ours(obj, marker=None):
    """Created by the collection: it carries marker, or (a Namespace) either collection marker."""
    if marker and carries(obj, marker):
        return True
    return (obj or {}).get("kind") == "Namespace" and any(carries(obj, m) for m in NAMESPACE_MARKERS)


def label_text(marker):
    return ", ".join("{0}={1}".format(k, v) for k, v in sorted(marker.items()))


def ref(obj):
    """'Kind namespace/name', or 'Kind name' for a cluster-scoped object."""
    meta = obj.get("metadata") or {}
    where = "{0}/{1}".format(meta["namespace"], meta.get("name")) if meta.get("namespace") else meta.get("name")
    return "{0} {1}".format(obj.get("kind"), where)


def comparable(obj):
    """obj without what changes on every write (managed fields, resourceVersion,
    generation) and without status: equal before and after means the apply
    changed nothing."""
    out = controller_owned_dropped(obj or {})
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in VOLATILE_METADATA:
        meta.pop(key, None)
    return out


def deleting(obj):
    return bool(((obj or {}).get("metadata") or {}).get("deletionTimestamp"))


def controller_owned_dropped(doc):
    """doc without what a Kubernetes controller fills in: the rules of an
    aggregated ClusterRole belong to the clusterrole-aggregation controller,
    and applying the manifest's empty list would reset them on every run."""
    body = copy.deepcopy(doc)
    if body.get("kind") == "ClusterRole" and body.get("aggregationRule"):
        body.pop("rules", None)
    return body


def with_labels(doc, extra):
    body = controller_owned_dropped(doc)
    meta = body.setdefault("metadata", {})
    meta["labels"] = dict(meta.get("labels") or {}, **extra)
    return body


def conditions_text(obj):
    """The conditions that hold (status True), else all of them, one line."""
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    shown = [c for c in conds if c.get("status") == "True"] or conds
    parts = []
    for cond in shown:
        detail = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
        parts.append("{0}={1}{2}".format(cond.get("type", "?"), cond.get("status", "?"),
                                         " ({0})".format(detail) if detail else ""))
    return "; ".join(parts) or "no conditions reported"


def still_there(obj):
    """Why a deleted object is still there: phase, finalizers and conditions."""
    meta = obj.get("metadata") or {}
    parts = []
    phase = (obj.get("status") or {}).get("phase")
    if phase:
        parts.append("phase " + phase)
    fins = list(meta.get("finalizers") or []) + list((obj.get("spec") or {}).get("finalizers") or [])
    if fins:
        parts.append("finalizers " + ", ".join(fins))
    parts.append("conditions: " + conditions_text(obj))
    return "{0} is still there ({1})".format(ref(obj), "; ".join(parts))


class Waiter:
    """Polls until a set of objects is gone; clock and sleep can be replaced in tests."""

    def __init__(self, api, clock=time.monotonic, sleep=time.sleep, interval=1.0):
        self.api = api
        self.clock = clock
        self.sleep = sleep
        self.interval = interval

    def gone(self, keys, timeout):
        """keys: (api_version, kind, name, namespace). Raise OwnershipError naming what is left."""
        deadline = self.clock() + timeout
        left = list(keys)
        while True:
            left = [k for k in left if self.api.get(*k) is not None]
            if not left:
                return
            if self.clock() >= deadline:
                live = [self.api.get(*k) for k in left]
                raise OwnershipError("timed out after {0}s waiting for deletion: {1}".format(
                    timeout, " | ".join(still_there(obj) for obj in live if obj)))
            self.sleep(self.interval)


def _key(doc):
    meta = doc.get("metadata") or {}
    return (doc.get("apiVersion"), doc.get("kind"), meta.get("name"), meta.get("namespace"))


class Namespaces:
    """Namespaces created with the marker; any other is left as it is."""

    def __init__(self, api, check_mode=False, waiter=None):
        self.api = api
        self.check_mode = check_mode
        self.waiter = waiter or Waiter(api)
        self.result = {"created": [], "existing": [], "preexisting": [], "updated": [], "deleted": [], "kept": [],
                       "labels_added": {}, "labels_removed": {}}
        self.diff = []

    @staticmethod
    def _unique(names):
        seen = []
        for name in names:
            if name and name not in seen:
                seen.append(name)
        return seen

    def _conflicts(self, names, extra_labels):
        """With label_existing: labels a pre-existing namespace has at another
        value, that the module did not add. Checked for every namespace before
        anything is written."""
        found = []
        for name in self._unique(names):
            live = self.api.get("v1", "Namespace", name)
            if live is None or deleting(live) or is_ours(live):
                continue
            recorded = added_labels(live)
            for key, value in sorted(extra_labels.items()):
                have = labels(live)
                if key in have and have[key] != value and key not in recorded:
                    found.append("{0}={1} on Namespace {2} (wanted {3})".format(key, have[key], name, value or '""'))
        if found:
            raise OwnershipError("labels set by someone else are not overwritten: " + "; ".join(found))

    def _label_existing(self, name, live, extra_labels):
        """Add extra_labels to an existing namespace (pre-existing or ours) and
        record the keys that were missing in ADDED_LABELS_ANNOTATION."""
        have = labels(live)
        recorded = added_labels(live)
        missing = {k: v for k, v in extra_labels.items() if have.get(k) != v}
        record = recorded + sorted(k for k in missing if k not in have and k not in recorded)
        if not missing:
            return
        patch = {"metadata": {"labels": missing}}
        if record != recorded:
            patch["metadata"]["annotations"] = {ADDED_LABELS_ANNOTATION: ",".join(record)}
        if not self.check_mode:
            self.api.merge_patch("v1", "Namespace", name, None, patch)
        self.result["updated"].append(name)
        self.result["labels_added"][name] = sorted(missing)
        self.diff.append({"before_header": "Namespace " + name, "after_header": "Namespace " + name,
                          "before": {"labels": have, "added-labels": ",".join(recorded)},
                          "after": {"labels": dict(have, **missing), "added-labels": ",".join(record)}})

    def present(self, names, extra_labels=None, wait_timeout=300, label_existing=False):
        """Create the missing ones with the marker and extra_labels. An existing
        namespace of ours gets extra_labels it lacks (never loses one); one
        without the marker is not touched at all, unless label_existing: then
        it gets them too, and every label this adds (also to the namespaces it
        creates) is recorded so that unlabel() takes back exactly those."""
        extra_labels = dict(extra_labels or {})
        if label_existing:
            self._conflicts(names, extra_labels)
        for name in self._unique(names):
            live = self.api.get("v1", "Namespace", name)
            if live is not None and deleting(live):
                # Being deleted: wait until it is gone, then create it afresh
                # (check mode reports that it would be created).
                if not self.check_mode:
                    self.waiter.gone([("v1", "Namespace", name, None)], wait_timeout)
                live = None
            if live is None:
                body = {"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": name, "labels": dict(extra_labels, **NAMESPACE_MARKER)}}
                if label_existing and extra_labels:
                    body["metadata"]["annotations"] = {ADDED_LABELS_ANNOTATION: ",".join(sorted(extra_labels))}
                    self.result["labels_added"][name] = sorted(extra_labels)
                if not self.check_mode:
                    self.api.create(body)
                self.result["created"].append(name)
                self.diff.append({"before_header": "Namespace " + name, "after_header": "Namespace " + name,
                                  "before": {}, "after": body})
                continue
            self.result["existing"].append(name)
            if not is_ours(live):
                self.result["preexisting"].append(name)
            if label_existing:
                self._label_existing(name, live, extra_labels)
                continue
            if not is_ours(live):
                continue
            missing = {k: v for k, v in extra_labels.items() if labels(live).get(k) != v}
            if missing:
                if not self.check_mode:
                    self.api.merge_patch("v1", "Namespace", name, None, {"metadata": {"labels": missing}})
                self.result["updated"].append(name)
                self.diff.append({"before_header": "Namespace " + name, "after_header": "Namespace " + name,
                                  "before": {"labels": labels(live)},
                                  "after": {"labels": dict(labels(live), **missing)}})
        return self.result

    def unlabel(self, names, keys=None):
        """Take back the labels present(label_existing=True) recorded: those of
        keys, or all recorded ones when keys is empty. The namespaces stay."""
        for name in self._unique(names):
            live = self.api.get("v1", "Namespace", name)
            if live is None or deleting(live):
                continue
            recorded = added_labels(live)
            take = [k for k in recorded if not keys or k in keys]
            if not take:
                continue
            rest = [k for k in recorded if k not in take]
            patch = {"metadata": {"labels": {k: None for k in take},
                                  "annotations": {ADDED_LABELS_ANNOTATION: ",".join(rest) or None}}}
            if not self.check_mode:
                self.api.merge_patch("v1", "Namespace", name, None, patch)
            self.result["updated"].append(name)
            self.result["labels_removed"][name] = take
            have = labels(live)
            self.diff.append({"before_header": "Namespace " + name, "after_header": "Namespace " + name,
                              "before": {"labels": have, "added-labels": ",".join(recorded)},
                              "after": {"labels": {k: v for k, v in have.items() if k not in take},
                                        "added-labels": ",".join(rest)}})
        return self.result

    def absent(self, names, wait_timeout=300):
        """Delete those carrying the marker and wait until they are gone; keep the others."""
        doomed = []
        for name in self._unique(names):
            live = self.api.get("v1", "Namespace", name)
            if live is None:
                continue
            if not is_ours(live):
                self.result["kept"].append({"name": name, "reason": (
                    "pre-existing: it does not carry {0}, so the collection did not create it".format(
                        label_text(NAMESPACE_MARKER)))})
                continue
            doomed.append(("v1", "Namespace", name, None))
            if deleting(live):
                continue  # deleted before: only waited for (a second delete is refused)
            if not self.check_mode:
                self.api.delete("v1", "Namespace", name)
            self.result["deleted"].append(name)
            self.diff.append({"before_header": "Namespace " + name, "after_header": "Namespace " + name,
                              "before": {"name": name, "labels": labels(live)}, "after": {}})
        if doomed and not self.check_mode:
            self.waiter.gone(doomed, wait_timeout)
        return self.result


class Manifest:
    """The documents of an operator release manifest, applied and removed by ownership."""

    def __init__(self, api, check_mode=False, field_manager="rhdh.orchestrator", marker=None, take_over=False,
                 waiter=None):
        self.api = api
        self.check_mode = check_mode
        self.field_manager = field_manager
        self.marker = dict(MANIFEST_MARKER if marker is None else marker)
        self.take_over = take_over
        self.waiter = waiter or Waiter(api)
        self.result = {"created": [], "updated": [], "preexisting": [], "deleted": [], "kept": []}
        self.reasons = {}
        self.diff = []
        self.current = None  # the object being worked on, for error messages

    @staticmethod
    def check(docs):
        """The documents that are objects; an incomplete one is an error naming it."""
        out = []
        for i, doc in enumerate(docs):
            if not doc:
                continue
            if not isinstance(doc, dict):
                raise OwnershipError("definition {0} is not a mapping".format(i))
            missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
            if not (doc.get("metadata") or {}).get("name"):
                missing.append("metadata.name")
            if missing:
                raise OwnershipError("definition {0} ({1}) lacks {2}".format(i, doc.get("kind", "?"), ", ".join(missing)))
            out.append(doc)
        return out

    def _changed(self, what, before, after):
        if comparable(before) == comparable(after):
            return False
        self.result["updated"].append(what)
        self.diff.append({"before_header": what, "after_header": what,
                          "before": comparable(before), "after": comparable(after)})
        return True

    def present(self, docs):
        for doc in self.check(docs):
            what = self.current = ref(doc)
            live = self.api.get(*_key(doc))
            if live is None:
                body = with_labels(doc, self.marker)
                # In check mode nothing is sent: the namespace or the kind of a
                # missing object may well be missing too.
                if not self.check_mode:
                    self.api.apply(body, self.field_manager)
                self.result["created"].append(what)
                self.diff.append({"before_header": what, "after_header": what, "before": {}, "after": body})
            elif is_ours(live, self.marker):
                after = self.api.apply(with_labels(doc, self.marker), self.field_manager, dry_run=self.check_mode)
                self._changed(what, live, after)
            else:
                self.result["preexisting"].append(what)
                if self.take_over:
                    after = self.api.apply(controller_owned_dropped(doc), self.field_manager, dry_run=self.check_mode)
                    self._changed(what, live, after)
                    self.reasons[what] = "pre-existing, taken over (applied without the marker label)"
                else:
                    self.reasons[what] = "pre-existing (no {0}): left as it is".format(label_text(self.marker))
        self.current = None
        return self.result

    def absent(self, docs, keep_kinds=("CustomResourceDefinition",), delete_namespaces=False, wait_timeout=300):
        doomed = []
        for doc in reversed(self.check(docs)):
            what = self.current = ref(doc)
            live = self.api.get(*_key(doc))
            if live is None:
                continue
            if not is_ours(live, self.marker):
                reason = "pre-existing (no {0})".format(label_text(self.marker))
            elif doc["kind"] in keep_kinds:
                reason = "kind {0} is kept (keep_kinds)".format(doc["kind"])
            elif doc["kind"] == "Namespace" and not delete_namespaces:
                reason = "namespaces are kept unless delete_namespaces"
            else:
                reason = None
            if reason:
                self.result["kept"].append(what)
                self.reasons[what] = reason
                continue
            doomed.append(_key(doc))
            if deleting(live):
                continue
            if not self.check_mode:
                self.api.delete(*_key(doc))
            self.result["deleted"].append(what)
            self.diff.append({"before_header": what, "after_header": what, "before": comparable(live), "after": {}})
        self.current = None
        if doomed and not self.check_mode:
            self.waiter.gone(doomed, wait_timeout)
        return self.result
