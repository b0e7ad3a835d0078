"""Where the real upstream data files live (read at run time, never copied).

`../shared/upstream` beside the clone (see its SOURCES.md), or the directory
ORCHESTRATOR_UPSTREAM_DATA names.
"""
import os

from .crds import REPO

RELEASES = ("1.7", "1.8", "1.9", "1.10")


def data_dir():
    return os.environ.get("ORCHESTRATOR_UPSTREAM_DATA",
                          os.path.join(os.path.dirname(REPO), "shared", "upstream"))


def available():
    return os.path.isdir(os.path.join(data_dir(), "rhdh-operator"))


def operator_dir(release):
    """rhdh-operator/<release>, or None when that release's data is missing."""
    path = os.path.join(data_dir(), "rhdh-operator", release)
    return path if os.path.isdir(path) else None


def rhdh_dir(release):
    path = os.path.join(data_dir(), "rhdh", release)
    return path if os.path.isdir(path) else None


def install_yaml(release):
    """Path of the operator's plain-Kubernetes install manifest, or None."""
    base = operator_dir(release)
    path = os.path.join(base, "dist", "install.yaml") if base else None
    return path if path and os.path.isfile(path) else None


def crd_file(release):
    base = operator_dir(release)
    path = os.path.join(base, "crd", "rhdh.redhat.com_backstages.yaml") if base else None
    return path if path and os.path.isfile(path) else None
