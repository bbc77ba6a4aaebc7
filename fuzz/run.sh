#!/usr/bin/env bash
# Fuzzes tsunagu's parsers of outside input (docs/fuzzing.md).
#
#   fuzz/run.sh [SECONDS] [TARGET...]   fuzz each target (default: all) for SECONDS (default 60),
#                                       one after another, adding what it finds to corpus/TARGET
#   fuzz/run.sh --check [TARGET...]     run every input of each corpus, and of regressions/TARGET
#                                       (inputs that once crashed), once, no fuzzing: the
#                                       regression check (cheap; what CI could run)
#   fuzz/run.sh --cmin [TARGET...]      minimise the corpora in place, to the inputs that reach
#                                       an edge no smaller input does (before committing them)
#
# Crashes are saved in fuzz/artifacts/TARGET/; the script goes on with the next target and
# exits non-zero at the end if any target failed. Runs under `nice` with one build job and
# one fuzzing job, so it can share the machine. Needs cargo-fuzz (installed here if missing);
# works on the stable toolchain (RUSTC_BOOTSTRAP lets it take cargo-fuzz's -Z flags).
set -euo pipefail
cd "$(dirname "$0")"

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
NICE=(nice -n "${FUZZ_NICE:-15}")
CARGO_FUZZ_VERSION=0.13.2

mode=fuzz
seconds=60
case "${1:-}" in
  --check) mode=check; shift ;;
  --cmin) mode=cmin; shift ;;
  ''|*[!0-9]*) ;;
  *) seconds="$1"; shift ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  "${NICE[@]}" cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

all_targets=(import_care_offices import_medical_institutions import_facility_standards import_xlsx_sheet
  era_date domain_forms api_json interop_input fhir_input fhir_search)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

dict_for() {
  case "$1" in
    import_xlsx_sheet) echo dict/xlsx.dict ;;
    import_*) echo dict/import.dict ;;
    era_date) echo dict/era.dict ;;
    domain_forms) echo dict/forms.dict ;;
    api_json) echo dict/json.dict ;;
    interop_input) echo dict/interop.dict ;;
    fhir_input) echo dict/fhir.dict ;;
    fhir_search) echo dict/fhir_search.dict ;;
  esac
}

"${NICE[@]}" cargo fuzz build

failed=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  dirs=("corpus/$target")
  [ -d "regressions/$target" ] && dirs+=("regressions/$target")
  start=$SECONDS
  case "$mode" in
    check)
      echo "== $target: replaying $(find "${dirs[@]}" -type f | wc -l) inputs"
      "${NICE[@]}" cargo fuzz run "$target" "${dirs[@]}" -- -runs=0 -timeout=10 || failed+=("$target")
      ;;
    cmin)
      echo "== $target: minimising corpus/$target"
      "${NICE[@]}" cargo fuzz cmin "$target" "corpus/$target" -- -timeout=10 -use_counters=0 || failed+=("$target")
      ;;
    fuzz)
      echo "== $target: fuzzing for ${seconds}s"
      # New inputs go to the first directory, corpus/TARGET.
      "${NICE[@]}" cargo fuzz run "$target" "${dirs[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$(dict_for "$target")" || failed+=("$target")
      ;;
  esac
  echo "== $target: $((SECONDS - start))s"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "${#targets[@]} passed, 0 failed"
