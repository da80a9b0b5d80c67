#!/usr/bin/env bash
# Load benchmark of the catalog API (make bench-api).
#
# For each catalog size it generates a synthetic catalog, ingests it, starts
# `greenroom serve` on 127.0.0.1 (a free port), and runs wrk against one URL
# per case, printing p50/p99 latency and req/s beside the targets. The
# stream case fetches every component (GET /entities?filter=kind=component,
# 55% of the catalog) with curl, first on the idle server and again after
# the wrk cases, reporting bytes/s and how much the server's RSS grew. The
# floor case (GET /readyz, which does nothing) shows what p99 this machine
# gives any handler under the same load.
#
# Environment:
#   BIN=path        greenroom binary (default: go build into the work dir)
#   SIZES="10000 100000"   catalog sizes
#   DURATION=12s WARMUP=2s THREADS=2 CONNS=8   wrk settings
#   CASES="stream byname query cursor facets fulltext page-catalog page-entity floor"
#                   cases to run (page-*: the catalog page under filters and
#                   entity pages, through the same server)
#   WORKDIR=dir     keep generated catalogs and databases there and reuse
#                   them on the next run (default: a temp dir, removed)
#   PROFILE_DIR=dir write a CPU profile of each server to dir/serve-N.prof
set -euo pipefail

SIZES=${SIZES:-"10000 100000"}
DURATION=${DURATION:-12s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-8}
CASES=${CASES:-"stream byname query cursor facets fulltext page-catalog page-entity floor"}

die() { echo "bench-api: $*" >&2; exit 1; }

# wrk: from Debian when we may install packages, else say how to get it.
if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ]; then sudo=""
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"
	else die "wrk is not installed and packages cannot be installed here (not root, no passwordless sudo); install it with 'apt-get install wrk' (Debian/Ubuntu) or from https://github.com/wg/wrk and run again"
	fi
	echo "== installing wrk"
	$sudo apt-get install -y wrk >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; } ||
		die "apt-get install wrk failed"
fi
command -v curl >/dev/null || die "curl is required"

if [ -n "${WORKDIR:-}" ]; then
	work=$WORKDIR; mkdir -p "$work"; keep=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/greenroom-bench-api.XXXXXX"); keep=0
fi
server_pid=""
stop_server() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
cleanup() {
	stop_server
	if [ "$keep" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${BIN:-}" ]; then
	root=$(cd "$(dirname "$0")/../../.." && pwd)
	echo "== building greenroom"
	(cd "$root" && go build -o "$work/greenroom" ./cmd/greenroom)
	BIN=$work/greenroom
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

has_case() { case " $CASES " in *" $1 "*) return 0;; esac; return 1; }

# to_ms converts a wrk duration (123.45us, 1.23ms, 1.02s, 2.00m) to ms.
to_ms() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /us$/) { sub(/us$/, "", d); printf "%.3f", d / 1000 }
		else if (d ~ /ms$/) { sub(/ms$/, "", d); printf "%.3f", d }
		else if (d ~ /m$/) { sub(/m$/, "", d); printf "%.3f", d * 60000 }
		else if (d ~ /s$/) { sub(/s$/, "", d); printf "%.3f", d * 1000 }
		else printf "?" }'
}

results=()
# row SIZE CASE P50 P99 RPS TARGET NOTE
row() { results+=("$(printf '%-7s %-11s %10s %10s %10s %10s  %s' "$@")"); }

# bench SIZE CASE TARGET_MS|- URL|--script FILE BASEURL
bench() {
	local n=$1 name=$2 target=$3; shift 3
	local args=("$@")
	wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${args[@]}" >/dev/null
	local out; out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}")
	local p50 p99 rps errs note=""
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
	rps=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' <<<"$out")
	errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd';' - || true)
	if [ "$target" = - ]; then note="(reference)"
	elif awk -v p="$p99" -v t="$target" 'BEGIN { exit !(p + 0 < t + 0) }'; then note="ok"; target="<$target"
	else note="MISSED"; target="<$target"
	fi
	[ -n "$errs" ] && note="$note; ERRORS:$errs"
	row "$n" "$name" "$p50" "$p99" "$rps" "$target" "$note"
	echo "   $name: p50 ${p50}ms p99 ${p99}ms ${rps} req/s $note"
}

rss_kib() { awk -v f="$2" '$1 == f":" { print $2 }' "/proc/$1/status"; }

urlencode() {
	local s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in [a-zA-Z0-9.~_-]) out+=$c;; *) out+=$(printf '%%%02X' "'$c");; esac
	done
	printf '%s' "$out"
}

# stream_case LABEL: GET /entities?filter=kind=component three times,
# streamed, reporting bytes/s (median) and the server's RSS before, at its
# peak while streaming (sampled every 20 ms, and VmHWM after resetting it
# where the kernel allows) and after. Growth includes whatever the SQLite
# page cache of the stream's connection fills (at most 48 MiB, kept for
# later queries), not only the response's buffers.
stream_case() {
	local label=$1 before hwm0 sampler speeds=() count=0 size=0 code="" stat secs speed i
	before=$(rss_kib "$server_pid" VmRSS)
	echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true
	hwm0=$(rss_kib "$server_pid" VmHWM)
	rm -f "$dir/rss.max"
	(
		max=0
		while kill -0 "$server_pid" 2>/dev/null; do
			v=$(rss_kib "$server_pid" VmRSS 2>/dev/null || echo 0)
			[ "${v:-0}" -gt "$max" ] && { max=$v; echo "$max" >"$dir/rss.max"; }
			sleep 0.02
		done
	) &
	sampler=$!
	for i in 1 2 3; do
		stat=$(curl -s -o "$dir/stream.json" -w '%{http_code} %{size_download} %{time_total} %{speed_download}' "$api/entities?filter=kind=component")
		read -r code size secs speed <<<"$stat"
		speeds+=("$speed")
		[ "$i" = 1 ] && count=$(grep -o '"apiVersion":' "$dir/stream.json" | wc -l)
	done
	sleep 0.1
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	local after peak hwm1 extra median mibs note
	after=$(rss_kib "$server_pid" VmRSS)
	peak=$(cat "$dir/rss.max" 2>/dev/null || echo 0)
	hwm1=$(rss_kib "$server_pid" VmHWM)
	# VmHWM counts only if the reset worked (it was not above the RSS before).
	[ "$hwm0" -le "$before" ] && [ "$hwm1" -gt "$peak" ] && peak=$hwm1
	rm -f "$dir/stream.json" "$dir/rss.max"
	extra=$(((peak - before) / 1024))
	median=$(printf '%s\n' "${speeds[@]}" | sort -n | sed -n 2p)
	mibs=$(awk -v b="$median" 'BEGIN { printf "%.1f", b / 1048576 }')
	note="ok"; [ "$extra" -lt 50 ] || note="MISSED"
	[ "$code" = 200 ] || note="$note; HTTP $code"
	echo "   $label: HTTP $code, $count entities, $size bytes, ${mibs} MiB/s (median of 3);" \
		"RSS before $((before / 1024)) MiB, peak $((peak / 1024)) MiB (+$extra MiB), after $((after / 1024)) MiB"
	results+=("$(printf '%-7s %-11s %s entities, %s bytes, %s MiB/s; RSS %s MiB -> peak %s MiB (+%s MiB, target <+50) -> after %s MiB  %s' \
		"$n" "$label" "$count" "$size" "$mibs" "$((before / 1024))" "$((peak / 1024))" "$extra" "$((after / 1024))" "$note")")
}

for n in $SIZES; do
	dir=$work/$n
	mkdir -p "$dir"
	if [ ! -f "$dir/catalog/all.yaml" ]; then
		echo "== $n entities: generating"
		env -u GREENROOM_CPUPROFILE "$BIN" generate --entities "$n" --out "$dir/catalog" >/dev/null
	fi
	printf 'catalog:\n  rules:\n    - allow: [Component, API, Resource, System, Domain, Group, User, Location, Template]\n  locations:\n    - type: file\n      target: %s/catalog/all.yaml\n' "$dir" >"$dir/app-config.yaml"
	if [ ! -d "$dir/data" ]; then
		echo "== $n entities: ingesting"
		start=$(date +%s.%N)
		env -u GREENROOM_CPUPROFILE "$BIN" ingest --config "$dir/app-config.yaml" --data-dir "$dir/data" >/dev/null 2>"$dir/ingest.log" ||
			{ cat "$dir/ingest.log" >&2; die "ingest failed"; }
		echo "   ingest took $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s, database $(du -sh "$dir/data" | cut -f1)"
	fi

	echo "== $n entities: serving"
	: >"$dir/serve.log"
	if [ -n "${PROFILE_DIR:-}" ]; then
		mkdir -p "$PROFILE_DIR"
		GREENROOM_CPUPROFILE=$PROFILE_DIR/serve-$n.prof "$BIN" serve --config "$dir/app-config.yaml" --data-dir "$dir/data" --addr 127.0.0.1:0 >>"$dir/serve.log" 2>&1 &
	else
		env -u GREENROOM_CPUPROFILE "$BIN" serve --config "$dir/app-config.yaml" --data-dir "$dir/data" --addr 127.0.0.1:0 >>"$dir/serve.log" 2>&1 &
	fi
	server_pid=$!
	base=""
	for _ in $(seq 600); do
		base=$(grep -o 'url=http://127\.0\.0\.1:[0-9]*' "$dir/serve.log" | head -1 | cut -d= -f2 || true)
		[ -n "$base" ] && curl -sf "$base/readyz" >/dev/null 2>&1 && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$dir/serve.log" >&2; die "server exited"; }
		sleep 0.5
	done
	curl -sf "$base/readyz" >/dev/null || die "server not ready after 300s"
	api=$base/api/catalog

	has_case stream && stream_case stream
	if has_case byname; then
		# Rotate over 50 real component names so reads are not one cached row.
		names=$(curl -sf "$api/entities/by-query?filter=kind=component&limit=50&fields=metadata.name" | grep -o '"name":"[^"]*"' | cut -d'"' -f4)
		[ -n "$names" ] || die "no component names"
		{
			echo "local paths = {"
			for nm in $names; do echo "  \"/api/catalog/entities/by-name/component/default/$nm\","; done
			echo "}"
			echo "local i = 0"
			echo "request = function() i = i % #paths + 1; return wrk.format(\"GET\", paths[i]) end"
		} >"$dir/byname.lua"
		bench "$n" by-name 2 -s "$dir/byname.lua" "$base"
	fi
	if has_case query; then
		bench "$n" query 10 "$api/entities/by-query?filter=kind=component&limit=20"
	fi
	if has_case cursor; then
		cursor=$(curl -sf "$api/entities/by-query?filter=kind=component&limit=20" | grep -o '"nextCursor":"[^"]*"' | cut -d'"' -f4)
		[ -n "$cursor" ] || die "no nextCursor"
		bench "$n" cursor 10 "$api/entities/by-query?cursor=$(urlencode "$cursor")&limit=20"
	fi
	if has_case facets; then
		bench "$n" facets 25 "$api/entity-facets?facet=spec.type"
	fi
	if has_case fulltext; then
		bench "$n" fulltext 25 "$api/entities/by-query?fullTextFilterTerm=payments&fullTextFilterFields=metadata.name&limit=20"
	fi
	if has_case page-catalog; then
		command -v python3 >/dev/null || die "page-catalog needs python3 (to read the facets)"
		# The catalog page under filters: every type and lifecycle, 30 owners
		# and 20 tags of components, rotating (each first view counts too).
		facets=$(curl -sf "$api/entity-facets?facet=spec.type&facet=spec.lifecycle&facet=spec.owner&facet=metadata.tags&filter=kind=component")
		{
			echo "local paths = {"
			for f in spec.type:type spec.lifecycle:lifecycle spec.owner:owner metadata.tags:tag; do
				key=${f%%:*}; param=${f##*:}
				echo "$facets" | python3 -c "import json,sys; [print(v['value']) for v in json.load(sys.stdin)['facets']['$key'][:30]]" |
					while read -r v; do echo "  \"/catalog?kind=component&$param=$(urlencode "$v")\","; done
			done
			echo "}"
			echo "local i = 0"
			echo "request = function() i = i % #paths + 1; return wrk.format(\"GET\", paths[i]) end"
		} >"$dir/catalog-page.lua"
		bench "$n" page-catalog 20 -s "$dir/catalog-page.lua" "$base"
	fi
	if has_case page-entity; then
		names=$(curl -sf "$api/entities/by-query?filter=kind=component&limit=50&fields=metadata.name" | grep -o '"name":"[^"]*"' | cut -d'"' -f4)
		{
			echo "local paths = {"
			for nm in $names; do echo "  \"/catalog/default/component/$nm\","; done
			echo "}"
			echo "local i = 0"
			echo "request = function() i = i % #paths + 1; return wrk.format(\"GET\", paths[i]) end"
		} >"$dir/entity-page.lua"
		bench "$n" page-entity 20 -s "$dir/entity-page.lua" "$base"
	fi
	if has_case floor; then
		# Not a target: a handler that does nothing, for the latency floor of
		# this machine under the same load.
		bench "$n" floor - "$base/readyz"
	fi
	# Again, with the caches warm from the cases above.
	has_case stream && stream_case stream-warm
	stop_server
done

echo
printf '%-7s %-11s %10s %10s %10s %10s  %s\n' size case "p50 ms" "p99 ms" "req/s" "target" ""
for r in "${results[@]}"; do echo "$r"; done
