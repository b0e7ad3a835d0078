# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness report of playbooks/status.yml as filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: status_checks.yml and status_report.yml beside this file (one per filter).

from ansible.errors import AnsibleFilterError
from ansible_collections.rhdh.orchestrator.plugins.module_utils.releases import UnknownRelease
from ansible_collections.rhdh.orchestrator.plugins.module_utils.status import checks, report


def _plain(value):
    """Ansible's lazy containers as plain dicts and lists."""
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def status_checks(settings):
    try:
        return checks(_plain(settings))
    except (UnknownRelease, KeyError) as exc:
        raise AnsibleFilterError("status_checks: {0}".format(exc))


def status_report(results, check_list, settings):
    try:
        return report(_plain(check_list), _plain(results), _plain(settings))
    except UnknownRelease as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"status_checks": status_checks, "status_report": status_report}
