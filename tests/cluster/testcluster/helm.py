"""helm for the tests: the binary `build` makes, and a loopback chart repository.

`build` compiles helm.sh/helm/v3/cmd/helm at HELM_VERSION (versions.env) into
its own cache dir and links it into the cluster's bin dir as `helm`.
ChartRepo packages a chart directory with that helm (`helm package`), indexes
it (`helm repo index`) and serves the directory over HTTP on 127.0.0.1.
"""
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading

import yaml

from . import upstream

CLUSTER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)
def binary():
    """Absolute path of the project's helm (built on first use, then cached)."""
    res = subprocess.run([os.path.join(CLUSTER_DIR, "build")], stdout=subprocess.PIPE, text=True, check=True)
    path = os.path.join(res.stdout.strip().splitlines()[-1], "helm")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"tests/cluster/build left no helm at {path}")
    return os.path.realpath(path)


def greeting_chart():
    """../shared/upstream/workflows/greeting (the rhdhorchestrator greeting chart), or None."""
    path = os.path.join(upstream.data_dir(), "workflows", "greeting")
    return path if os.path.isfile(os.path.join(path, "Chart.yaml")) else None


def isolated_env(home):
    """Environment that keeps helm's config, cache and data under home."""
    env = dict(os.environ)
    for var, sub in (("HELM_CONFIG_HOME", "config"), ("HELM_CACHE_HOME", "cache"), ("HELM_DATA_HOME", "data")):
        env[var] = os.path.join(home, sub)
    return env


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


class ChartRepo:
    """A chart packaged and served from a temporary directory on 127.0.0.1.

    url: the repository URL (http://127.0.0.1:<port>); chart, version: the
    chart's name and version from its Chart.yaml; helm: the helm used; env:
    an environment with helm's homes in the temporary directory."""

    def __init__(self, chart_dir, helm=None):
        with open(os.path.join(chart_dir, "Chart.yaml"), encoding="utf-8") as fh:
            meta = yaml.safe_load(fh)
        self.chart, self.version = meta["name"], str(meta["version"])
        self.helm = helm or binary()
        self.dir = tempfile.mkdtemp(prefix="chart-repo-")
        self.root = os.path.join(self.dir, "repo")
        os.makedirs(self.root)
        self.env = isolated_env(os.path.join(self.dir, "helm"))
        self._run("package", chart_dir, "--destination", self.root)
        handler = functools.partial(_Quiet, directory=self.root)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._run("repo", "index", self.root, "--url", self.url)
        self._thread = threading.Thread(target=self._server.serve_forever, name="chart-repo", daemon=True)
        self._thread.start()

    def _run(self, *args):
        res = subprocess.run([self.helm, *args], capture_output=True, text=True, env=self.env, check=False)
        if res.returncode:
            raise RuntimeError(f"helm {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    @property
    def archive(self):
        return os.path.join(self.root, f"{self.chart}-{self.version}.tgz")

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)
