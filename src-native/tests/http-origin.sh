# http-origin.sh — sourced by the test scripts whose programs fetch: a local origin for sys_fetch, python3's
# http.server on 127.0.0.1 at a free port (only 127.0.0.1 is ever contacted).
#   start_origin DIR    serves DIR; sets origin_pid and origin_port (empty when it did not start within 5 s)
#   stop_origin         stops it
start_origin() {
    local log
    log=$(mktemp)
    python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$1" >"$log" 2>&1 &
    origin_pid=$!
    for _ in $(seq 50); do grep -q " port " "$log" && break; sleep 0.1; done
    origin_port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$log" | head -n 1)
    rm -f "$log"
}

stop_origin() {
    kill "$origin_pid" 2>/dev/null || true
    wait "$origin_pid" 2>/dev/null || true # it ends by the signal
}
