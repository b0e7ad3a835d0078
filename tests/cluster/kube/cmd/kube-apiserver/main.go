// Command kube-apiserver runs the upstream kube-apiserver for the local test cluster.
package main

import (
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"os"
	_ "time/tzdata" // CronJob time zones need the zone database
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
