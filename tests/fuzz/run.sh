#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz, one after the other.
#
#   tests/fuzz/run.sh [SECONDS | -runs=N] [HARNESS...]
#
# SECONDS (default 60) or N executions per harness; HARNESS is rules, glob,
# diff, hook_input or literals (default: all five). The harnesses are built
# first in their own build (clang, ASan/UBSan; GITGATE_FUZZ_BUILD_DIR, default
# ./build-fuzz). Each fuzzer starts from a copy of its seed corpus in a
# scratch folder, so the checked-in corpus never grows; the scratch folder is
# removed unless something was found. Prints, per harness, the runs made and
# whether it crashed (a crash, a leak, a sanitizer report or an input that
# takes longer than 10 s); exits 1 when any did. GITGATE_FUZZ_FLAGS adds
# libFuzzer flags, e.g. -max_len=2048 for a long run of the rules loader,
# whose seeds include the whole default rules.ini (14 KB): shorter inputs
# run about twice as fast and still reach every section.
set -euo pipefail

SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ=$SOURCE/tests/fuzz
BUILD=${GITGATE_FUZZ_BUILD_DIR:-$SOURCE/build-fuzz}

limit=-max_total_time=60
case ${1:-} in
-runs=*) limit=$1 && shift ;;
[0-9]*) limit=-max_total_time=$1 && shift ;;
esac
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(rules glob diff hook_input literals)

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$SOURCE" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGITGATE_FUZZ=ON -DGITGATE_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" --target fuzz -j"$(nproc)" >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-fuzz.XXXXXX")
export LSAN_OPTIONS=suppressions=$SOURCE/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1
failed=0
for name in "${harnesses[@]}"; do
	[ -d "$FUZZ/corpus/$name" ] || { echo "run.sh: no harness '$name'" >&2 && exit 2; }
	work=$scratch/$name
	mkdir -p "$work/corpus"
	cp "$FUZZ/corpus/$name"/* "$work/corpus/"
	start=$SECONDS
	# -jobs=1 -workers=1: one fuzzing process, never one per core.
	status=0
	# shellcheck disable=SC2086 # GITGATE_FUZZ_FLAGS is a list of flags
	(cd "$work" && "$BUILD/tests/fuzz/fuzz_$name" "$limit" -jobs=1 -workers=1 -timeout=10 ${GITGATE_FUZZ_FLAGS:-} \
		-dict="$FUZZ/$name.dict" -artifact_prefix="$work/" -print_final_stats=1 \
		corpus >"$work/log" 2>&1) || status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	if [ $status -eq 0 ]; then
		printf '%-11s %12s runs in %4d s, no crash\n' "$name" "${runs:-?}" $((SECONDS - start))
	else
		failed=1
		printf '%-11s %12s runs in %4d s, FOUND: %s\n' "$name" "${runs:-?}" \
			$((SECONDS - start)) "$(grep -m1 -E '^==[0-9]+==ERROR|runtime error|^SUMMARY' \
				"$work/log" || echo "exit status $status")"
		grep -A40 -m1 -E '^==[0-9]+==ERROR|runtime error' "$work/log" | sed 's/^/    /' || true
		for artifact in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			if [ -e "$artifact" ]; then echo "    input: $artifact"; fi
		done
	fi
done
if [ $failed = 0 ]; then
	rm -rf "$scratch"
else
	echo "run.sh: logs and inputs kept in $scratch (reproduce: build-fuzz/tests/fuzz/fuzz_NAME INPUT)"
fi
exit $failed
