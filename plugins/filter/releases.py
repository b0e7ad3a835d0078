# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RHDH release matrix as filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: rhdh_release.yml and rhdh_release_differences.yml beside this file (one per filter).

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
