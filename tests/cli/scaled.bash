# scaled SECONDS: a harness time limit stretched by CA_TEST_TIME_FACTOR (scripts/valgrind-run
# sets it, as every process runs tens of times slower under memcheck; 1 otherwise). The
# node's own timeouts are never changed. Sourced by lib.bash and by the scripts that wrap a
# Python test in `timeout`.
scaled() { awk -v s="$1" -v f="${CA_TEST_TIME_FACTOR:-1}" 'BEGIN { printf "%d\n", s * f }'; }
