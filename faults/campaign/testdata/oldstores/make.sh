#!/bin/sh
# make.sh BINARY NAME: makes NAME-primary.img.gz and NAME-backup.img.gz here
# with BINARY, a cmcsync built from an older commit (README.md says which):
# two 4 MiB W25Q256JV chips with a 256 KiB information region, formatted and
# populated (generator seed 1), then
#   WIDE rounds each changing a 2-byte run in three of every four 4 KiB
#     pieces of every payload (delta chains in most chunks),
#   TINY rounds each changing a 2-byte run in one piece of the node payload
#     (until the journal area is full and compacted: a checkpoint with
#     checkpoint-deltas records),
#   AFTER more rounds as the WIDE ones,
# each round info get, the bytes changed, info put, then sync.
set -eu
bin=$1
name=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/oldstores-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
spec='sim:part=w25q256jv,size=4M'
p="$spec,file=$tmp/p.img"
b="$spec,file=$tmp/b.img"

# change TYPE K EVERY: a run in each piece i of TYPE's payload with
# (i + K) % 4 != 0 (EVERY=wide), or in piece K % pieces only (EVERY=one)
change() {
	"$bin" info get "$1" --primary "$p" --backup "$b" --out "$tmp/$1.bin"
	size=$(wc -c <"$tmp/$1.bin")
	at=$((200 + $2 * 29 % 3000))
	pieces=0
	while [ $((pieces * 4096 + at + 2)) -le "$size" ]; do
		pieces=$((pieces + 1))
	done
	i=0
	while [ "$i" -lt "$pieces" ]; do
		if { [ "$3" = wide ] && [ $(((i + $2) % 4)) -ne 0 ]; } ||
			{ [ "$3" = one ] && [ "$i" -eq $(($2 % pieces)) ]; }; then
			printf "\\$(printf %03o $(($2 * 7 % 256)))\\$(printf %03o $(($2 * 13 % 256 | 1)))" |
				dd of="$tmp/$1.bin" bs=1 seek=$((i * 4096 + at)) conv=notrunc 2>/dev/null
		fi
		i=$((i + 1))
	done
	"$bin" info put "$1" "$tmp/$1.bin" --primary "$p" --backup "$b" >/dev/null
}

"$bin" sync --primary "$p" --backup "$b" --populate --info-size 256K >/dev/null
k=1
for phase in "wide ${WIDE:-6}" "one ${TINY:-0}" "wide ${AFTER:-0}"; do
	set -- $phase
	n=$2
	while [ "$n" -gt 0 ]; do
		if [ "$1" = wide ]; then
			for t in power fan node event-log fault-log asset; do
				change "$t" "$k" wide
			done
		else
			change node "$k" one
		fi
		"$bin" sync --primary "$p" --backup "$b" >/dev/null
		k=$((k + 1))
		n=$((n - 1))
	done
done
"$bin" inspect --flash "$b" >"$tmp/inspect.txt" || { cat "$tmp/inspect.txt"; exit 1; }
gzip -9n <"$tmp/p.img" >"$here/$name-primary.img.gz"
gzip -9n <"$tmp/b.img" >"$here/$name-backup.img.gz"
