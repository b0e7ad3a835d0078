"""python -m testcluster.sim --kubeconfig K [--controllers volumes,...]"""
import argparse
import logging

from . import base, volumes

CONTROLLERS = {"volumes": volumes.VolumeProvisioner}


def main():
    parser = argparse.ArgumentParser(prog="testcluster.sim")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--controllers", default=",".join(CONTROLLERS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    base.run(args.kubeconfig, [CONTROLLERS[n] for n in args.controllers.split(",") if n])


if __name__ == "__main__":
    main()
