# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge plugin entries into an RHDH dynamic-plugins.yaml document, keyed by package."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: merge_dynamic_plugins
short_description: Merge plugin entries into an RHDH dynamic-plugins document, keyed by package
version_added: 0.2.0
description:
  - Takes the parsed content of a C(dynamic-plugins.yaml) (a dict with C(includes) and C(plugins)) and a list of
    plugin entries. An entry whose package matches one already there (same package, whatever its version or tag)
    replaces the fields it sets on that one; the others are appended. Every other plugin, and every other key of
    the document, is kept as it was.
  - With O(remove=true) the matching entries are taken out instead (used when the orchestrator is removed from an
    RHDH it did not install).
  - Package keys ignore the version. C(@scope/name@1.2.3) matches C(@scope/name), C(oci://host/repo:tag!path)
    matches C(oci://host/repo:other!path), and local paths (C(./dynamic-plugins/dist/...)) match exactly.
options:
  _input:
    description: The parsed dynamic-plugins document (or null for none).
    type: dict
    required: true
  plugins:
    description: Plugin entries; each needs C(package).
    type: list
    elements: dict
    required: true
  remove:
    description: Remove the matching entries instead of merging them.
    type: bool
    default: false
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The user's plugins plus the orchestrator ones
  ansible.builtin.set_fact:
    merged: "{{ current | rhdh.orchestrator.merge_dynamic_plugins(orchestrator_plugins) }}"
"""

RETURN = r"""
_value:
  description: The document with the plugins merged (or removed).
  type: dict
"""

import copy
import re

from ansible.errors import AnsibleFilterError


def plugin_key(package):
    """The package without its version, tag or digest."""
    package = package.strip()
    if package.startswith("oci://"):
        ref, bang, path = package.partition("!")
        ref = re.sub(r"@sha256:[0-9a-f]+$", "", ref)
        head, _sep, last = ref.rpartition("/")
        return head + "/" + last.split(":", 1)[0] + bang + path
    if package.startswith((".", "/")):
        return package
    if package.startswith("@"):
        scope, _sep, rest = package[1:].partition("/")
        return "@" + scope + "/" + rest.split("@", 1)[0]
    return package.split("@", 1)[0]


def merge_dynamic_plugins(document, plugins, remove=False):
    doc = copy.deepcopy(document) if document else {}
    if not isinstance(doc, dict):
        raise AnsibleFilterError("merge_dynamic_plugins: the dynamic-plugins document must be a mapping, not %s"
                                 % type(doc).__name__)
    current = doc.get("plugins") or []
    if not isinstance(current, list):
        raise AnsibleFilterError("merge_dynamic_plugins: 'plugins' must be a list")
    for entry in plugins:
        if not isinstance(entry, dict) or not entry.get("package"):
            raise AnsibleFilterError("merge_dynamic_plugins: every plugin entry needs a package, got %r" % (entry,))
    keys = [plugin_key(p["package"]) for p in plugins]
    if remove:
        doc["plugins"] = [p for p in current if not (isinstance(p, dict) and p.get("package")
                                                     and plugin_key(p["package"]) in keys)]
        return doc
    out = list(current)
    for entry, key in zip(plugins, keys):
        for i, have in enumerate(out):
            if isinstance(have, dict) and have.get("package") and plugin_key(have["package"]) == key:
                out[i] = dict(have, **copy.deepcopy(entry))
                break
        else:
            out.append(copy.deepcopy(entry))
    doc["plugins"] = out
    return doc


class FilterModule(object):
    def filters(self):
        return {"merge_dynamic_plugins": merge_dynamic_plugins}
