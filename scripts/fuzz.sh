#!/usr/bin/env bash
# Run every fuzz target under libFuzzer (clang) for the given number of seconds each.
# Corpora start from tests/fuzz/corpus/<name>/ and grow in build-fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mkdir -p build-fuzz
make --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
	LDFLAGS="-fsanitize=address,undefined" build-fuzz/libsiteledger.a build-fuzz/libslraft.a build-fuzz/libslepcis.a
xml_cflags=$(pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
for source in tests/fuzz/fuzz_*.c; do
	name=$(basename "$source" .c)
	corpus=build-fuzz/corpus/${name#fuzz_}
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
	extra=()
	if [ "$name" = fuzz_epcis ]; then # the EPCIS readers link jansson and libxml2
		extra=($xml_cflags build-fuzz/libslepcis.a -ljansson -lxml2)
	elif [ "$name" = fuzz_bundle ]; then # the auditor's bundle checks live in cli/
		extra=(cli/bundle.c cli/bundle_keys.c)
	fi
	clang -std=c11 -I. -D_DEFAULT_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined "$source" \
		"${extra[@]}" build-fuzz/libsiteledger.a build-fuzz/libslraft.a -llmdb -lsodium -lmsgpackc -lpthread \
		-o "build-fuzz/$name"
	echo "== $name for ${seconds}s"
	"build-fuzz/$name" -max_total_time="$seconds" -max_len=131072 "$corpus"
done
