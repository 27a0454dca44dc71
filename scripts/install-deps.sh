#!/usr/bin/env bash
# Install the Debian packages siteledger needs, only those missing. Uses sudo when not root.
# Called by `make demo` and `make test`; safe to run any number of times.
# With arguments, installs only the packages named (scripts/bench.sh: etcd-server, which only
# `make bench` needs).
set -euo pipefail

packages=(
	gcc make pkg-config            # build
	libuv1-dev liblmdb-dev libsodium-dev libmsgpack-dev libnanomsg-dev   # runtime libraries
	libjansson-dev libxml2-dev libmicrohttpd-dev                         # EPCIS and HTTP
	lmdb-utils                     # mdb_stat / mdb_dump for operators (docs/storage.md)
	clang                          # fuzz targets (libFuzzer) and sanitizer builds
	procps util-linux jq           # integration tests: pgrep, flock, JSON checks
	curl                           # tests/integration/test_node_observe.sh: scrapes GET /metrics
	python3-jsonschema             # tests/integration/test_epcis.sh: exports validate against GS1's EPCIS JSON Schema
	libxml2-utils                  # tests/integration/test_epcis.sh: xmllint (well-formed XML exports; XSD when given)
)

if [ $# -gt 0 ]; then
	packages=("$@")
fi

missing=()
for package in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$package")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing packages ${missing[*]} and no apt-get here; install them by hand" >&2
	exit 1
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
