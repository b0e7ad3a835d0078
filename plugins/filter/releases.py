# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RHDH release matrix as filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rhdh_release
short_description: What goes with an RHDH release (operator channel, API version, plugins, Serverless Logic)
version_added: 0.2.0
description:
  - Returns the row of the collection's RHDH release matrix for a release such as C(1.9) or C(1.10.2)
    (an unquoted YAML C(1.10), read as the number 1.1, counts as 1.10).
  - Keys are C(version), C(operator_channel), C(operator_starting_csv), C(backstage_api_version),
    C(api_versions), C(manifest_url), C(plugins) (C(orchestrator), C(orchestrator_backend), C(scaffolder),
    C(form_widgets), each C(package) and C(integrity)), C(plugin_dependencies), C(flavours), C(statefulset),
    C(logic_operator_package), C(logic_operator_channel) and C(logic_operator_starting_csv).
  - Fails naming the supported releases for any other value.
options:
  _input:
    description: The RHDH release.
    type: raw
    required: true
author:
  - rhdh.orchestrator contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The OLM channel of the RHDH release
  ansible.builtin.debug:
    msg: "{{ ('1.9' | rhdh.orchestrator.rhdh_release).operator_channel }}"
"""

RETURN = r"""
_value:
  description: The release's row of the matrix.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.releases import (
    UnknownRelease, differences, release)


def rhdh_release(version):
    try:
        return release(version)
    except UnknownRelease as exc:
        raise AnsibleFilterError(str(exc))


def rhdh_release_differences(installed, version):
    try:
        return differences(version, installed or {})
    except UnknownRelease as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"rhdh_release": rhdh_release, "rhdh_release_differences": rhdh_release_differences}
