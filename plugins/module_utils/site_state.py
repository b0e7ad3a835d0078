# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state record of a site run: what the collection installed, from which
inputs, and what already existed before it.

The record lives in one ConfigMap (``data`` values are strings, so each part
is JSON). It is rewritten only when its content changes: a rerun that
installs nothing new leaves it untouched, which keeps the run at changed=0.
Removal and drift reports read it instead of guessing from today's inputs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

FORMAT = "1"

# Inputs whose values are never written down: only their names are kept.
SECRET_NAME = re.compile(r"(password|passwd|secret|token|private|credential|api_key|_key$|ssh)", re.IGNORECASE)

# Inputs that say what a run does, not how the stack looks: never recorded,
# so uninstall and plan do not replay them.
RUN_ONLY = re.compile(r"^(orchestrator_state|orchestrator_targets|orchestrator_keep_going|orchestrator_state_namespace"
                      r"|orchestrator_state_configmap|[a-z_]+_state)$")


def _load(value, default):
    if value in (None, ""):
        return default
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return default


def _dump(value):
    return json.dumps(value, sort_keys=True, indent=1)


def read(data):
    """The record from a ConfigMap's data (or None/{} for no record)."""
    data = data or {}
    return {
        "components": _load(data.get("components"), []),
        "inputs": _load(data.get("inputs"), {}),
        "secret_inputs": _load(data.get("secret-inputs"), []),
        "preexisting": _load(data.get("preexisting"), {}),
    }


def split_inputs(inputs):
    """(recorded values, names of secret inputs) from the user's variables."""
    kept, secret = {}, []
    for name in sorted(inputs or {}):
        if RUN_ONLY.match(name):
            continue
        if SECRET_NAME.search(name):
            secret.append(name)
        else:
            kept[name] = inputs[name]
    return kept, secret


def update(previous, plan, results, inputs, preexisting):
    """The ConfigMap data after a run.

    previous: the ConfigMap's data before the run ({} when there was none).
    plan: the component_plan of the run (its ``state``, ``components`` and ``order``).
    results: [{component, status}] of this run; installed components whose
      run ended ok or failed are recorded (a failed install may have left
      objects behind); removed ones that ended ok are dropped.
    inputs: the user's variables at the start of the run.
    preexisting: what was found before this run ({kind: [names]}); merged
      with the first record, since after an install the collection's own
      objects are no longer "before".
    """
    old = read(previous)
    recorded = {c["name"]: c for c in old["components"]}
    for result in results or []:
        name, status = result["component"], result["status"]
        if status not in ("ok", "failed"):
            continue
        if plan["state"] == "absent":
            if status == "ok":
                recorded.pop(name, None)
            continue
        spec = plan["components"].get(name, {})
        entry = {"name": name, "role": spec.get("role", ""), "namespace": spec.get("namespace", ""),
                 "depends_on": sorted(spec.get("depends_on", [])), "status": status}
        recorded[name] = entry
    if not recorded:
        return {}
    # Install order of the plan first, then anything recorded earlier that
    # this run's plan no longer holds, in the order it was recorded.
    position = {name: i for i, name in enumerate(plan.get("order", []))}
    earlier = [c["name"] for c in old["components"]]
    names = sorted(recorded, key=lambda n: (position.get(n, len(position)), earlier.index(n) if n in earlier else 0))
    if plan["state"] == "absent":
        kept_inputs, secret = old["inputs"], old["secret_inputs"]
    else:
        kept_inputs, secret = split_inputs(inputs)
        kept_inputs = dict(old["inputs"], **kept_inputs)
        secret = sorted(set(old["secret_inputs"]) | set(secret))
    before = dict(old["preexisting"])
    for kind, items in (preexisting or {}).items():
        if kind not in before:
            before[kind] = sorted(items)
    return {
        "format": FORMAT,
        "components": _dump([recorded[n] for n in names]),
        "inputs": _dump(kept_inputs),
        "secret-inputs": _dump(secret),
        "preexisting": _dump(before),
    }


def removal_order(data):
    """The recorded components, last installed first."""
    return [c["name"] for c in reversed(read(data)["components"])]


def drift(data, plan, inputs):
    """What a site run would do compared with the record.

    Returns {install: [...], keep: [...], left_over: [...], changed_inputs:
    [{name, recorded, now}], secret_inputs_given: [...]}: components the plan
    holds that are not recorded, components recorded and still planned,
    recorded ones the plan no longer holds (site.yml leaves them; uninstall
    with orchestrator_targets removes them), and inputs that differ from the
    recorded ones.
    """
    old = read(data)
    recorded = [c["name"] for c in old["components"]]
    planned = list(plan.get("run", [])) if plan.get("state", "present") == "present" else []
    kept_inputs, secret = split_inputs(inputs)
    changed = []
    for name in sorted(set(kept_inputs) | set(old["inputs"])):
        if name in kept_inputs and kept_inputs[name] != old["inputs"].get(name):
            changed.append({"name": name, "recorded": old["inputs"].get(name), "now": kept_inputs[name]})
    return {
        "recorded": recorded,
        "install": [n for n in planned if n not in recorded],
        "keep": [n for n in planned if n in recorded],
        "left_over": [n for n in recorded if n not in plan.get("order", [])],
        "changed_inputs": changed,
        "secret_inputs_given": sorted(secret),
        "preexisting": old["preexisting"],
    }


def blockers(result, limit=10):
    """Objects a failed removal left terminating, from the failed task's
    result (kubernetes.core returns the object a delete wait timed out on):
    ["Backstage rhdh-operator/developer-hub: deleting since T, held by finalizers a, b"]."""
    found, seen = [], set()

    def walk(value):
        if len(found) >= limit:
            return
        if isinstance(value, dict):
            meta = value.get("metadata")
            if isinstance(meta, dict) and meta.get("deletionTimestamp"):
                ref = "%s %s%s" % (value.get("kind", "object"), meta["namespace"] + "/" if meta.get("namespace") else "", meta.get("name", ""))
                if ref not in seen:
                    seen.add(ref)
                    fins = meta.get("finalizers") or []
                    found.append("%s: deleting since %s, %s" % (
                        ref, meta["deletionTimestamp"],
                        "held by finalizers " + ", ".join(fins) if fins else "no finalizers left (its controller has not finished)"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(result)
    return found
