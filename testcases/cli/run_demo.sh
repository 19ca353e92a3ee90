# The bundled demo (the main job of scripts/setup.sh) runs cleanly under tether.
source "$(dirname "$0")/lib.sh" "$@"
DEMO="${EXTRA:?the demo program is the third argument}"

run_tether run --timeout 60s -- "$DEMO"
expect_rc 0
expect_out "^demo: 4 pool fibers sent 40 requests to 2 server fibers locked to thread \"gui\""
expect_out "^demo: primes below 100000: 9592 \(expected 9592\)$"
expect_out "call\(\) from the pool: 4/4 right"
expect_out "^demo: ok$"
pass
