"""Fixtures shared by tests/unit and tests/integration (one pytest session runs both).

`collection_install`: the galaxy tarball of this checkout, built once per
session and installed into an empty collections path, the way a user or an
AWX project sync gets the collection. tests/unit/test_packaging.py reads it,
tests/integration/test_awx_runner.py runs site.yml from it.
"""
import importlib.util
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


class CollectionInstall:  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """Where the built and installed collection is, and an environment that finds only it and kubernetes.core."""

    def __init__(self, tmp):
        with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
            galaxy = yaml.safe_load(handle)
        self.tmp = tmp
        self.fqcn = f"{galaxy['namespace']}.{galaxy['name']}"
        self.tarball = tmp / f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
        self.collections = tmp / "collections"
        self.path = self.collections / "ansible_collections" / galaxy["namespace"] / galaxy["name"]
        config = tmp / "ansible.cfg"
        config.write_text("[defaults]\n")  # not the checkout's ansible.cfg, which points at the checkout
        # kubernetes.core from the virtualenv (the `ansible` package ships it): <site-packages>/ansible_collections/kubernetes/core
        kubernetes_core = importlib.util.find_spec("ansible_collections.kubernetes.core").submodule_search_locations[0]
        self.site_packages = os.path.dirname(os.path.dirname(os.path.dirname(kubernetes_core)))
        self.collections_path = f"{self.collections}:{self.site_packages}"
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=self.collections_path,
                        ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"))
        self.env.pop("ANSIBLE_COLLECTIONS_PATHS", None)

    def run(self, args, timeout=120):
        proc = subprocess.run(args, cwd=self.tmp, env=self.env, capture_output=True, text=True, timeout=timeout, check=False)
        assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc


@pytest.fixture(scope="session")
def collection_install(tmp_path_factory):
    """Build the tarball once and install it (no dependencies) into an empty path."""
    built = CollectionInstall(tmp_path_factory.mktemp("collection"))
    built.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(built.tmp), ROOT])
    assert built.tarball.is_file(), f"no {built.tarball.name} built"
    built.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(built.tarball), "-p", str(built.collections), "--no-deps"])
    assert (built.path / "MANIFEST.json").is_file(), f"nothing installed at {built.path}"
    return built
