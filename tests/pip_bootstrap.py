"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates its per-test virtualenvs without pip and runs a cached
bootstrap script (``~/.ansible/test/cache/get_pip_<version>.py``) that it
normally fetches from a host these machines cannot reach. This script does the
same job from what is here: ensurepip from the standard library, then pip
itself upgraded to the requested version from a wheel that ``tests/sanity``
downloaded beforehand into WHEELS with the project's own (newer) pip: the pip
bundled with ensurepip cannot verify this network's TLS chain, pip 24.2 can.
``tests/sanity`` puts this script in the cache when the real one is absent.

Arguments are what ansible-test passes to get-pip: pip options, the pinned
packages, and get-pip's own --no-setuptools / --no-wheel flags.
"""
import ensurepip
import os
import subprocess
import sys

WHEELS = os.path.expanduser("~/.ansible/test/cache/pip-wheels")

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
ensurepip.bootstrap(upgrade=True)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade", "--no-index", "--find-links", WHEELS, *args]))
