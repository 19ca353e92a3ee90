#!/usr/bin/env bash
# Regenerates what README.md shows of the three examples' broken variants:
#   1. builds `tether` and the examples in Release (build/, as scripts/setup.sh),
#   2. runs each example with --broken under `tether run`, the command shown:
#        build/cli/tether run --timeout 60s --report build/NAME-broken.json \
#            --svg docs/examples/NAME-broken.svg -- build/examples/NAME --broken
#   3. abridges what it printed (examples/readme_output.py: relative paths, the
#      stacks of the cycle's fibers only, "..." where cut), keeps the full
#      output in build/NAME-broken.txt and the abridged one in
#      docs/examples/NAME-broken.txt, and puts the abridged one into README.md
#      between "<!-- example-output: NAME ... -->" and "<!-- end example-output -->";
#   4. makes the SVG's paths relative too.
# Review with `git diff README.md docs/examples`. `ctest -L examples` checks
# that README's findings (kind, pattern, fibers) still match the programs.
#
# Environment: TETHER_BUILD (build directory, default build; configured as
# Release when it has no CMakeCache.txt), TETHER_JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
build="${TETHER_BUILD:-build}"
jobs="${TETHER_JOBS:-2}"

if [[ ! -f "${build}/CMakeCache.txt" ]]; then
  cmake -S . -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTETHER_WERROR=ON
fi
type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "${build}/CMakeCache.txt")"
[[ "${type}" == Release ]] ||
  echo "example_outputs: warning: ${build} is a ${type:-default} build; README shows Release" >&2
targets=(tether examples)
# The preload library too, when configured: `tether run` preloads it (and warns without it).
grep -q '^build [^:]*libtether_preload\.so' "${build}/build.ninja" 2>/dev/null && targets+=(tether_preload)
cmake --build "${build}" -j"${jobs}" --target "${targets[@]}"

mkdir -p docs/examples
status=0
for name in gui_main_thread debugger pipeline; do
  svg="docs/examples/${name}-broken.svg"
  report="${build}/${name}-broken.json"
  shown="build/cli/tether run --timeout 60s --report build/${name}-broken.json --svg ${svg} --"
  shown+=" build/examples/${name} --broken"
  rm -f "${svg}" "${report}"
  echo "example_outputs: ${name}: ${shown}"
  rc=0
  "${build}/cli/tether" run --timeout 60s --report "${report}" --svg "${svg}" -- \
    "${build}/examples/${name}" --broken >"${build}/${name}-broken.stdout" \
    2>"${build}/${name}-broken.stderr" || rc=$?
  cat "${build}/${name}-broken.stdout" "${build}/${name}-broken.stderr" >"${build}/${name}-broken.txt"
  if [[ ${rc} -ne 66 || ! -s "${svg}" ]]; then
    echo "example_outputs: ${name} --broken: expected status 66 and ${svg}; got status ${rc}" \
      "(output: ${build}/${name}-broken.txt)" >&2
    status=1
    continue
  fi
  python3 examples/readme_output.py abridge "${root}" "${build}" \
    "${build}/${name}-broken.stdout" "${build}/${name}-broken.stderr" >"docs/examples/${name}-broken.txt"
  python3 examples/readme_output.py update README.md "${name}" "${shown}" \
    "docs/examples/${name}-broken.txt"
  python3 - "${svg}" "${root}" "${build}" <<'PY'
import sys
sys.path.insert(0, "examples")
from readme_output import relative
path, root, build = sys.argv[1:]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(relative(text, root, build))
PY
done
[[ ${status} -eq 0 ]] && echo "example_outputs: README.md and docs/examples/ updated (git diff to review)"
exit "${status}"
