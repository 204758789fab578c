// Package k8s holds no code: its tests check the Kubernetes manifests and
// the container image recipe of this folder (see README.md). They decode
// every manifest strictly with the Kubernetes API types, and run the
// campaign Job's shards as local processes with the environment each pod
// gets, merge their logs with merge.sh as a cluster would (through a fake
// kubectl) and compare the merge with one unsharded run.
//
// The folder is a Go module of its own, so that the cmcsync module does
// not carry the Kubernetes API's dependencies.
package k8s
