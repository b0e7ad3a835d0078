"""CLI: python -m testcluster up|down|status|env|kubeconfig|manifests|demo-vars|listeners [--flavour F] [--name N]."""
import argparse
import json
import os
import subprocess
import sys

from . import procs
from .cluster import CLUSTER_DIR, FLAVOURS, Cluster


def build():
    """Build or find the binaries; the build script prints the bin dir last."""
    res = subprocess.run([os.path.join(CLUSTER_DIR, "build")], stdout=subprocess.PIPE, text=True, check=True)
    return res.stdout.strip().splitlines()[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tests/cluster/cluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "env", "kubeconfig", "manifests", "demo-vars", "listeners",
                                            "build", "install-crds", "delete-crds"])
    parser.add_argument("crds", nargs="*", help="install-crds/delete-crds: CRD names of the upstream set (../shared/crds)")
    parser.add_argument("--flavour", choices=FLAVOURS,
                        default=os.environ.get("ORCHESTRATOR_TEST_FLAVOUR", "kubernetes"))
    parser.add_argument("--name", default=os.environ.get("ORCHESTRATOR_TEST_CLUSTER_NAME"),
                        help="cluster name (default: the flavour)")
    args = parser.parse_intermixed_args(argv)
    if args.flavour not in FLAVOURS:
        parser.error(f"ORCHESTRATOR_TEST_FLAVOUR must be one of {', '.join(FLAVOURS)}")
    cluster = Cluster(args.name or args.flavour)

    if args.command in ("install-crds", "delete-crds"):
        # For molecule scenarios that need CRDs no simulated operator brings (GitOps).
        from . import crds  # pylint: disable=import-outside-toplevel
        if crds.source() != "upstream":
            print("the upstream CRDs (../shared/crds) are not beside this checkout", file=sys.stderr)
            return 2
        if args.command == "install-crds":
            cluster.install_crds(crds.load_on_demand(args.crds))
        else:
            cluster.kubectl("delete", "crd", "--ignore-not-found", "--timeout=120s", *args.crds)
        return 0
    if args.command == "build":
        print(build())
    elif args.command == "up":
        cluster.up(args.flavour, build())
        print(cluster.kubeconfig)
    elif args.command == "down":
        cluster.down()
    elif args.command == "status":
        st = cluster.status()
        print(json.dumps(st, indent=2))
        return 0 if st["up"] else 1
    elif args.command == "env":
        if not cluster.healthy():
            print(f"cluster {cluster.name!r} is not up", file=sys.stderr)
            return 1
        print(f"export KUBECONFIG={cluster.kubeconfig}\nexport K8S_AUTH_KUBECONFIG={cluster.kubeconfig}")
        print(f"export PATH={cluster.state['bin']}:$PATH")
    elif args.command == "kubeconfig":
        print(cluster.kubeconfig)
    elif args.command == "demo-vars":
        # Extra vars for `make demo`: the operator manifests on the loopback
        # server, and where molecule/site/vars/main.yml (the site scenario's
        # settings, which make demo passes too) finds this cluster and checkout.
        with open(os.path.join(cluster.dir, "manifests.json"), encoding="utf-8") as fh:
            index = json.load(fh)
        demo = {f"{role}_k8s_operator_manifest_{k}": v for role, name in
                (("serverless", "knative-operator"), ("sonataflow", "sonataflow-operator"), ("rhdh", "rhdh-operator"))
                for k, v in (("url", index[name]["url"]), ("checksum", "sha256:" + index[name]["sha256"]))}
        demo.update(site_project_dir=os.path.dirname(os.path.dirname(CLUSTER_DIR)), site_work_dir=cluster.dir,
                    site_flavour=args.flavour)
        path = os.path.join(cluster.dir, "demo-vars.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(demo, fh, indent=2)
        print(path)
    elif args.command == "manifests":
        print(os.path.join(cluster.dir, "manifests.json"))
    elif args.command == "listeners":
        print(json.dumps([dict(zip(("pid", "proto", "address", "port"), row))
                          for row in procs.listeners(cluster.pids())], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
