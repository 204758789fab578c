#!/usr/bin/env bash
# The merge step of campaign-job.yaml: waits until the Job has finished,
# saves each shard's pod log to DIR/shard-K.log and merges them with
# `cmcsync campaign merge`, whose output and exit status it passes on
# (0: every shard present and no violation; 1: violations; 2: logs that do
# not merge; 3: shards missing).
#
# usage: deploy/k8s/merge.sh [JOB [DIR [MERGE-FLAGS...]]]
#   JOB          the Job's name (default cmcsync-campaign), in kubectl's
#                current context and namespace (set KUBECTL="kubectl -n NS")
#   DIR          where the logs go (default reports-JOB); its shard-*.log
#                files are replaced
#   MERGE-FLAGS  passed to the merge, e.g. --json
# environment: CMCSYNC (the cmcsync binary; default cmcsync on PATH),
# KUBECTL (default kubectl), POLL (seconds between looks at the Job;
# default 30).
set -euo pipefail

job=${1:-cmcsync-campaign}
dir=${2:-reports-$job}
shift $(($# < 2 ? $# : 2))
kubectl=${KUBECTL:-kubectl}
cmcsync=${CMCSYNC:-cmcsync}

# kube runs kubectl; its failure ends the script with status 2 (not 1,
# which would read as violations found).
kube() {
	if ! $kubectl "$@"; then
		echo "merge.sh: kubectl $* failed" >&2
		exit 2
	fi
}

n=$(kube get job "$job" -o 'jsonpath={.spec.completions}')
echo "merge.sh: waiting for job/$job ($n shards) to finish" >&2
while :; do
	# A failed look (the API server restarting) is retried at the next.
	done_as=$($kubectl get job "$job" -o 'jsonpath={.status.conditions[?(@.status=="True")].type}') || done_as=
	case " $done_as " in *" Complete "* | *" Failed "*) break ;; esac
	sleep "${POLL:-30}"
done

mkdir -p "$dir"
rm -f "$dir"/shard-*.log # a stale log must not stand in for a lost shard
for ((k = 0; k < n; k++)); do
	# The newest pod of shard k: an evicted try leaves an older pod whose
	# log stops short of the report.
	pod=$(kube get pods -l "batch.kubernetes.io/job-name=$job,batch.kubernetes.io/job-completion-index=$k" \
		--sort-by=.metadata.creationTimestamp -o 'jsonpath={.items[-1:].metadata.name}')
	if [[ -z $pod ]]; then
		echo "merge.sh: shard $k/$n has no pod (deleted, or its node lost): its report is missing" >&2
		continue
	fi
	if ! $kubectl logs "$pod" >"$dir/shard-$k.log"; then
		echo "merge.sh: shard $k/$n: no log from pod $pod: its report is missing" >&2
		rm -f "$dir/shard-$k.log"
	fi
done

shopt -s nullglob
logs=("$dir"/shard-*.log)
if ((${#logs[@]} == 0)); then
	echo "merge.sh: no shard left a log: nothing to merge" >&2
	exit 3
fi
exec $cmcsync campaign merge "$@" "${logs[@]}"
