# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state record of site runs as filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: state_record.yml, state_drift.yml and removal_blockers.yml beside this file (one per filter).

from ansible_collections.rhdh.orchestrator.plugins.module_utils import site_state


def state_record(previous, plan, results, inputs=None, preexisting=None):
    return site_state.update(previous or {}, plan, results, inputs or {}, preexisting or {})


def state_drift(data, plan, inputs=None):
    return site_state.drift(data or {}, plan, inputs or {})


def removal_blockers(result):
    return site_state.blockers(result)


class FilterModule(object):
    def filters(self):
        return {"state_record": state_record, "state_drift": state_drift, "removal_blockers": removal_blockers}
