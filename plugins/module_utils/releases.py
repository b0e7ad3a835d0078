# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rhdh.orchestrator contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RHDH releases the collection installs, and what goes with each one.

One table, read by the rhdh, sonataflow and preflight roles (through the
rhdh_release filter), so that one variable, orchestrator_rhdh_version, picks
the operator channel, the Backstage API version, the orchestrator plugin
packages, the Serverless Logic operator and the Kubernetes release manifest
that belong together. Sources: rhdh-operator release branches (CRDs, bundle,
default-config, plugin-deps), RHDH's dynamic-plugins.default.yaml of each
release, and the operator's plugin-infra (orchestrator-facts.md sections 0
and 7).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

NEWEST = "1.10"

_MANIFEST = "https://raw.githubusercontent.com/redhat-developer/rhdh-operator/release-{0}/dist/rhdh/install.yaml"
_OCI = "oci://registry.access.redhat.com/rhdh/red-hat-developer-hub-backstage-plugin-{0}:{{{{inherit}}}}"


def _npm(version, integrity):
    """1.7 and 1.8 list the orchestrator plugins as npm packages with integrity."""
    names = {
        "orchestrator": "@redhat/backstage-plugin-orchestrator@{0}",
        "orchestrator_backend": "@redhat/backstage-plugin-orchestrator-backend-dynamic@{0}",
        "scaffolder": "@redhat/backstage-plugin-scaffolder-backend-module-orchestrator-dynamic@{0}",
        "form_widgets": "@redhat/backstage-plugin-orchestrator-form-widgets@{0}",
    }
    return dict((key, {"package": pattern.format(version), "integrity": integrity[key]})
                for key, pattern in names.items())


def _oci():
    """1.9 and later: the OCI artifacts, at the version RHDH itself lists ({{inherit}})."""
    names = {
        "orchestrator": "orchestrator",
        "orchestrator_backend": "orchestrator-backend",
        "scaffolder": "scaffolder-backend-module-orchestrator",
        "form_widgets": "orchestrator-form-widgets",
    }
    return dict((key, {"package": _OCI.format(name), "integrity": ""}) for key, name in names.items())


# dependencies: what the orchestrator backend entry says, so that the RHDH
# operator's plugin-deps mechanism creates nothing (no second
# SonataFlowPlatform, database Job or NetworkPolicies in the RHDH namespace):
# 1.7 uses our ConfigMap as is (None: say nothing); 1.8 and 1.9 merge our
# entry over theirs and keep their dependencies unless ours is non-empty, so we
# name a reference that matches no plugin-deps file; 1.10 clears them on [].
RELEASES = {
    "1.7": {
        "operator_channel": "fast-1.7",
        "operator_starting_csv": "",
        "backstage_api_version": "v1alpha3",
        "api_versions": ["v1alpha3"],
        "manifest_url": _MANIFEST.format("1.7"),
        "plugins": _npm("1.7.1", {
            "orchestrator": "sha512-Cqu9EQwVQ4mpdgWTUA0MW89Gul0IklhvkkqVoO3CloQ1dnAj1XyXikCphzH5TmNDDd9K66dOpaKKCaW9KeJ4WA==",
            "orchestrator_backend":
                "sha512-9cXbedr0lC7ns7SNqARrWSQI4JGcZFw5xpfpUzA1tJaMMUjzAdPHTXqljf62/fs4hYBK8TJsWJ2KJkGVMzbrHQ==",
            "scaffolder": "sha512-J1sTjA5kj6DphG8D65go9KlpIfKyLN/wq+XlY5Cb5djEo8mvF3wn3Haf60OGFo5cP4OfRSWqFwT7LM5/dNVwAg==",
            "form_widgets": "sha512-0KIXrZoJ+O4xNNzN/zB4+VMuaRPuiUviAmM+fIhTo/P9aLA36F9aIlyMbUbki49uaJ0zd8KXMBvmJSHZNrYkGQ==",
        }),
        "plugin_dependencies": None,
        "flavours": False,
        "statefulset": False,
        "logic_operator_package": "logic-operator-rhel8",
        "logic_operator_channel": "alpha",
        "logic_operator_starting_csv": "logic-operator-rhel8.v1.36.0",
    },
    "1.8": {
        "operator_channel": "fast-1.8",
        "operator_starting_csv": "",
        "backstage_api_version": "v1alpha4",
        "api_versions": ["v1alpha3", "v1alpha4"],
        "manifest_url": _MANIFEST.format("1.8"),
        "plugins": _npm("1.8.12", {
            "orchestrator": "sha512-Qvab3B/O6ZuJbTdq4TDlTKIw5cw4Fty+NgkoxDrx8Fs/2oe53VioBMetJ1cMxkGF8+mYVK5y85B8ssvasrSJrA==",
            "orchestrator_backend":
                "sha512-2yTgy1APS9n2mj7j0bO2OVbU+fzwicpVcRd1tZ3xZ9AICguMEg9gFxtC0BDE23krWyZ0d1qrgpZisFoQXFBOtQ==",
            "scaffolder": "sha512-t1B7zaRvW/LY8LXNegk6Rqn3ezk2f6DQ2BU4ANW2OswE/0waQnbXkHr54cTN1OvMhKs8bNFAdJ4AVpiESTqpOA==",
            "form_widgets": "sha512-Kw8YCqzxwChfpODU1q8IltAK8+TJ94e8qjBvT5TDQLPdUQBYdj8gLhLQF0rtZMR3b+lYlnsKkf67RMC0xRGJsw==",
        }),
        "plugin_dependencies": [{"ref": "none"}],
        "flavours": False,
        "statefulset": False,
        "logic_operator_package": "logic-operator-rhel8",
        "logic_operator_channel": "alpha",
        "logic_operator_starting_csv": "logic-operator-rhel8.v1.36.0",
    },
    "1.9": {
        "operator_channel": "fast-1.9",
        "operator_starting_csv": "",
        "backstage_api_version": "v1alpha5",
        "api_versions": ["v1alpha3", "v1alpha4", "v1alpha5"],
        "manifest_url": _MANIFEST.format("1.9"),
        "plugins": _oci(),
        "plugin_dependencies": [{"ref": "none"}],
        "flavours": False,
        "statefulset": True,
        "logic_operator_package": "logic-operator",
        "logic_operator_channel": "stable",
        "logic_operator_starting_csv": "logic-operator.v1.37.2",
    },
    "1.10": {
        "operator_channel": "fast-1.10",
        "operator_starting_csv": "",
        "backstage_api_version": "v1alpha5",
        "api_versions": ["v1alpha4", "v1alpha5"],
        "manifest_url": _MANIFEST.format("1.10"),
        "plugins": _oci(),
        "plugin_dependencies": [],
        "flavours": True,
        "statefulset": True,
        "logic_operator_package": "logic-operator",
        "logic_operator_channel": "stable",
        "logic_operator_starting_csv": "logic-operator.v1.38.0",
    },
}


class UnknownRelease(ValueError):
    pass


def release(version):
    """The table row of an RHDH release ('1.9', also 1.9 as a number or '1.9.3')."""
    text = str(version).strip()
    if text in ("", "None"):
        text = NEWEST
    parts = text.split(".")
    key = ".".join(parts[:2])
    if key == "1.1":  # YAML reads an unquoted 1.10 as the number 1.1
        key = "1.10"
    if key not in RELEASES:
        raise UnknownRelease("RHDH {0} (orchestrator_rhdh_version) is not supported; supported releases: {1}".format(
            text, ", ".join(supported())))
    row = copy.deepcopy(RELEASES[key])
    row["version"] = key
    return row


def supported():
    return sorted(RELEASES, key=lambda v: tuple(int(x) for x in v.split(".")))


def differences(version, installed):
    """What an installed RHDH stack has that the release does not expect.

    installed: a dict with any of operator_csv (the installed RHDH CSV name or
    operator image tag), backstage_api_versions (served by the CRD),
    logic_operator_csv. Returns a list of sentences, empty when all agree.
    """
    row = release(version)
    out = []
    csv = installed.get("operator_csv") or ""
    if csv:
        found = _release_of(csv)
        if found and found != row["version"]:
            out.append("the RHDH operator is {0} (release {1}), orchestrator_rhdh_version is {2}".format(
                csv, found, row["version"]))
    served = installed.get("backstage_api_versions")
    if served is not None and row["backstage_api_version"] not in served:
        out.append("the Backstage CRD serves {0}, release {1} writes {2}".format(
            ", ".join(served) or "nothing", row["version"], row["backstage_api_version"]))
    logic = installed.get("logic_operator_csv") or ""
    if logic and not logic.startswith(row["logic_operator_package"] + ".v"):
        out.append("Serverless Logic is {0}, release {1} goes with {2} ({3})".format(
            logic, row["version"], row["logic_operator_package"], row["logic_operator_starting_csv"]))
    return out


def _release_of(text):
    """'1.9' from rhdh-operator.v1.9.3, quay.io/rhdh/rhdh-rhel9-operator:1.9 and the like."""
    tail = text.rsplit(".v", 1)[-1] if ".v" in text else text.rsplit(":", 1)[-1]
    parts = tail.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return "{0}.{1}".format(parts[0], int(parts[1]))
    return None
