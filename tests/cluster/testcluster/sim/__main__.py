"""python -m testcluster.sim --kubeconfig K [--controllers volumes,...] [--crds project|upstream]
[--knative-operator DIR --logs DIR]"""
import argparse
import logging

from . import base, knative, knative_operator, olm, rhdh, sonataflow, volumes

CONTROLLERS = {
    "volumes": volumes.VolumeProvisioner,
    "olm": olm.OLM,
    "knative": knative.Knative,
    "knative-operator": knative_operator.KnativeOperator,
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
    parser.add_argument("--knative-operator", default=None,
                        help="dir of the real Knative Operator (<bin>/knative-operator.d); run while its Deployment is")
    parser.add_argument("--logs", default=None, help="where the processes started here log")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base.run(args.kubeconfig, [CONTROLLERS[n] for n in args.controllers.split(",") if n],
             options={"crds": args.crds, "flavour": args.flavour, "kubeconfig": args.kubeconfig,
                      "knative_operator": args.knative_operator, "logs": args.logs})


if __name__ == "__main__":
    main()
