"""python -m testcluster.sim --kubeconfig K [--controllers volumes,...] [--crds project|upstream]"""
import argparse
import logging

from . import base, knative, olm, rhdh, sonataflow, volumes

CONTROLLERS = {
    "volumes": volumes.VolumeProvisioner,
    "olm": olm.OLM,
    "knative": knative.Knative,
    "sonataflow": sonataflow.SonataFlow,
    "rhdh": rhdh.RHDH,
}


def main():
    parser = argparse.ArgumentParser(prog="testcluster.sim")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--controllers", default=",".join(CONTROLLERS))
    parser.add_argument("--crds", choices=["project", "upstream"], default=None,
                        help="the CRD set operators install (default: ORCHESTRATOR_TEST_CRDS / auto)")
    parser.add_argument("--flavour", default="kubernetes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base.run(args.kubeconfig, [CONTROLLERS[n] for n in args.controllers.split(",") if n],
             options={"crds": args.crds, "flavour": args.flavour})


if __name__ == "__main__":
    main()
