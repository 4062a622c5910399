# uakey tests: a node-opcua OPC UA server (tests/interop/ua_server.mjs) that a
# test starts and stops.  Sourced (bash) AFTER tests/tool/helpers.sh:
#
#   . "$(dirname "$0")/helpers.sh"
#   . "$UK_HELPER_DIR/tool/ua_server_lib.sh"  # skips (77) without node/node-opcua;
#                                  # (helpers.sh has cd-ed to $T: not $(dirname "$0"))
#   ua_server_start srv --user alice:secret   # DIR relative to $T; extra args
#                                             # go to ua_server.mjs
#   ... "$UAKEY" connect "$UA_URL" ...
#   ua_server_trust_client THUMBPRINT         # rejected/ -> trusted/certs/, waits
#   ua_server_stop                            # also done by the EXIT trap
#
# Sourcing skips the test (exit 77) when node or tests/interop/node_modules/
# node-opcua is missing, or exits 99 instead under UK_REQUIRE_NODE=1.
#
# After ua_server_start DIR:
#   UA_PORT UA_URL          127.0.0.1 port (chosen by the OS) and endpoint URL
#   UA_SERVER_CERT          the server certificate, DER (DIR/pki/server_certificate.der)
#   UA_SERVER_THUMBPRINT    its SHA-1, 40 upper-case hex digits
#   UA_SERVER_APP_URI       its ApplicationUri
#   UA_SERVER_PKI           the server's PKI folder (DIR/pki)
#   UA_SERVER_TRUSTED       DIR/pki/trusted/certs   (trusted client certificates)
#   UA_SERVER_REJECTED      DIR/pki/rejected        (where an unknown client
#                           certificate lands, as "<CN>[<sha1 lower-case>].pem";
#                           mind the brackets: they are glob characters)
#   UA_SERVER_PID           node's PID       UA_SERVER_LOG  DIR/server.log
#   UA_SERVER_START_SECONDS how long the start took
# Always set: UA_CHECK, a wrapper that runs tests/interop/ua_client_check.mjs
# (the node-opcua reference client; capture/run_ok can run it), UA_INTEROP_DIR.
#
# One server at a time.  The PKI in DIR survives ua_server_stop, so a second
# ua_server_start DIR restarts the same server (same certificate, same trust
# lists) on a new port.  The server is stopped by its PID: SIGTERM, up to 5 s,
# then SIGKILL.  Backstops if this shell dies without running its EXIT trap:
# the server watches this shell's PID ($$) and leaves when it is gone, and
# it quits after UA_SERVER_MAX_RUNTIME seconds (default: run-test.sh's limit
# for the test + 60 s).

# shellcheck disable=SC2034 # UA_* are set here for the test that sources this
UA_INTEROP_DIR=${UK_INTEROP_DIR:-${UK_SRCDIR:-$UK_HELPER_DIR/..}/tests/interop}
UA_INTEROP_DIR=$(cd "$UA_INTEROP_DIR" 2>/dev/null && pwd || printf '%s' "$UA_INTEROP_DIR")

ua_server_need() {
    local missing=
    command -v node >/dev/null 2>&1 || missing="$missing node"
    [ -f "$UA_INTEROP_DIR/ua_server.mjs" ] || missing="$missing $UA_INTEROP_DIR/ua_server.mjs"
    [ -d "$UA_INTEROP_DIR/node_modules/node-opcua" ] ||
        missing="$missing $UA_INTEROP_DIR/node_modules/node-opcua (run: cd tests/interop && npm ci)"
    if [ -n "$missing" ]; then
        if [ "${UK_REQUIRE_NODE:-0}" = 1 ]; then
            say "UK_REQUIRE_NODE=1 but missing:$missing"
            exit 99
        fi
        skip "missing:$missing"
    fi
}
ua_server_need

UA_NODE=$(command -v node)
UA_CHECK=$T/ua_client_check
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$UA_NODE" "$UA_INTEROP_DIR/ua_client_check.mjs" >"$UA_CHECK"
chmod +x "$UA_CHECK"

{
    UA_PORT='' UA_URL='' UA_SERVER_CERT='' UA_SERVER_THUMBPRINT='' UA_SERVER_APP_URI=''
    UA_SERVER_PKI='' UA_SERVER_TRUSTED='' UA_SERVER_REJECTED='' UA_SERVER_PID='' UA_SERVER_LOG=''
    UA_SERVER_DIR='' UA_SERVER_START_SECONDS='' UA_TRAP_SET='' UA_PREV_EXIT_TRAP=''
}

# The EXIT trap: stop the server whatever way the test ends (fail, skip,
# set -e, a signal).  An EXIT trap the test set before is kept and run after.
ua_server_trap() {
    [ -n "$UA_TRAP_SET" ] && return 0
    UA_TRAP_SET=1
    local prev
    prev=$(trap -p EXIT | sed "s/^trap -- '\\(.*\\)' EXIT\$/\\1/")
    UA_PREV_EXIT_TRAP=$prev
    # shellcheck disable=SC2064
    trap 'ua_server_stop; eval "$UA_PREV_EXIT_TRAP"' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    trap 'exit 129' HUP
}

# ua_server_log_tail [N]: the last N (40) lines of the server log, indented.
ua_server_log_tail() {
    local n=${1:-40} f
    for f in "$UA_SERVER_LOG" "$UA_SERVER_DIR/server.out"; do
        [ -s "$f" ] || continue
        say "  $f (last $n lines):"
        tail -n "$n" "$f" | sed 's/^/    | /'
    done
}

# ua_server_start DIR [ua_server.mjs options]: starts the server in the
# background with its PKI in DIR/pki and waits (60 s at most) for its ready
# file.  Fails the test with the log tail if it does not come up.
ua_server_start() {
    local dir=$1 t0 t1 ready maxrt
    shift
    # the last backstop: a little longer than run-test.sh lets the test run
    maxrt=$(( ${UK_TEST_TIMEOUT:-300} + 60 ))
    [ -n "${UK_CHECKER-}" ] && maxrt=$(( ${UK_TEST_TIMEOUT:-300} * 10 + 60 ))
    maxrt=${UA_SERVER_MAX_RUNTIME:-$maxrt}
    [ -z "$UA_SERVER_PID" ] || fail "ua_server_start: a server is already running (pid $UA_SERVER_PID)"
    mkdir -p "$dir" || fail "ua_server_start: mkdir $dir"
    UA_SERVER_DIR=$(cd "$dir" && pwd)
    ready=$UA_SERVER_DIR/ready
    UA_SERVER_LOG=$UA_SERVER_DIR/server.log
    rm -f "$ready"
    ua_server_trap
    t0=$(date +%s.%N)
    say "  starting node-opcua server (dir $UA_SERVER_DIR) $(qcmd "$@")"
    "$UA_NODE" "$UA_INTEROP_DIR/ua_server.mjs" --port 0 --pki "$UA_SERVER_DIR/pki" \
        --ready "$ready" --log "$UA_SERVER_LOG" --verbose --watch-pid $$ \
        --max-runtime "$maxrt" "$@" \
        >>"$UA_SERVER_DIR/server.out" 2>&1 </dev/null &
    UA_SERVER_PID=$!
    for _ in $(seq 600); do
        [ -f "$ready" ] && break
        if ! kill -0 "$UA_SERVER_PID" 2>/dev/null; then
            wait "$UA_SERVER_PID" 2>/dev/null
            say "  the server exited (status $?) before it was ready"
            UA_SERVER_PID=
            ua_server_log_tail
            fail "node-opcua server did not start"
        fi
        sleep 0.1
    done
    if [ ! -f "$ready" ]; then
        say "  no ready file after 60 s"
        ua_server_log_tail
        ua_server_stop
        fail "node-opcua server did not start within 60 s"
    fi
    t1=$(date +%s.%N)
    UA_SERVER_START_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    _ua_ready() { sed -n "s/^$1=//p" "$ready" | head -n1; }
    UA_PORT=$(_ua_ready port)
    UA_URL=$(_ua_ready url)
    UA_SERVER_CERT=$(_ua_ready cert)
    UA_SERVER_THUMBPRINT=$(_ua_ready thumbprint)
    UA_SERVER_APP_URI=$(_ua_ready app_uri)
    UA_SERVER_PKI=$(_ua_ready pki)
    UA_SERVER_TRUSTED=$(_ua_ready trusted)
    UA_SERVER_REJECTED=$(_ua_ready rejected)
    if [ "$(_ua_ready pid)" != "$UA_SERVER_PID" ]; then
        say "  ready file says pid $(_ua_ready pid), started pid $UA_SERVER_PID"
        ua_server_stop
        fail "node-opcua server: unexpected PID in the ready file"
    fi
    case $UA_PORT in
    '' | *[!0-9]*) ua_server_stop; fail "node-opcua server: bad port '$UA_PORT' in $ready" ;;
    esac
    say "  server up in ${UA_SERVER_START_SECONDS} s: $UA_URL (pid $UA_SERVER_PID, certificate $UA_SERVER_THUMBPRINT)"
}

# ua_server_stop: SIGTERM by PID, wait up to 5 s, then SIGKILL.  Never
# fails; safe to call twice.
ua_server_stop() {
    local pid=$UA_SERVER_PID
    [ -n "$pid" ] || return 0
    UA_SERVER_PID=
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "  server pid $pid still there after 5 s: SIGKILL"
        kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# ua_server_log_mark: prints the number of lines in the server log now, for
# ua_server_wait_log to look only at what comes after.
ua_server_log_mark() {
    if [ -f "$UA_SERVER_LOG" ]; then wc -l <"$UA_SERVER_LOG" | tr -d ' '; else echo 0; fi
}

# ua_server_wait_log ERE [SECONDS [MARK]]: wait until the server log has a
# line matching ERE (after line MARK, default 0) within SECONDS (default
# 10); returns 1 on timeout.
ua_server_wait_log() {
    local re=$1 n=$(( ${2:-10} * 10 )) from=$(( ${3:-0} + 1 ))
    for _ in $(seq "$n"); do
        tail -n "+$from" "$UA_SERVER_LOG" 2>/dev/null | grep -Eq -- "$re" && return 0
        sleep 0.1
    done
    return 1
}

# ua_server_rejected_file THUMBPRINT: prints the file in the server's
# rejected/ folder that holds that certificate (0 if there is one).
ua_server_rejected_file() {
    local tp f
    tp=$(printf '%s' "$1" | tr 'A-F' 'a-f')
    f=$(find "$UA_SERVER_REJECTED" -maxdepth 1 -type f -name "*\\[$tp\\].pem" 2>/dev/null | head -n1)
    [ -n "$f" ] || return 1
    printf '%s\n' "$f"
}

# ua_server_trust_client THUMBPRINT: move the client certificate the server
# rejected from rejected/ to trusted/certs/ (what an operator does), then
# wait until the running server's store has seen both halves of the move:
# node-opcua's watcher reports a removal ~100 ms late, and until then the
# certificate still counts as rejected.
ua_server_trust_client() {
    local tp f mark
    tp=$(printf '%s' "$1" | tr 'A-F' 'a-f')
    f=$(ua_server_rejected_file "$tp") || {
        say "  $UA_SERVER_REJECTED holds:"
        find "$UA_SERVER_REJECTED" -maxdepth 1 -type f | sed 's/^/    | /'
        fail "no certificate with thumbprint $tp in the server's rejected folder"
    }
    mark=$(ua_server_log_mark)
    mv -- "$f" "$UA_SERVER_TRUSTED/" || fail "mv $f $UA_SERVER_TRUSTED/"
    if ! ua_server_wait_log "pki: trusted \\+= $tp" 10 "$mark" ||
        ! ua_server_wait_log "pki: rejected -= $tp" 10 "$mark"; then
        ua_server_log_tail 20
        fail "the server did not pick up the move of $(basename "$f") within 10 s"
    fi
    ok "server trusts client certificate $tp (moved $(basename "$f") to trusted/certs)"
}

# ua_server_add_trusted CERTFILE: put a client certificate (DER or PEM) into
# the server's trusted/certs (after ua_server_start; the server may be
# stopped again).  When it runs, waits until its store has it.  Do the same
# (copy elsewhere, then mv into trusted/certs) if you do it by hand: a file
# copied in place is first seen half-written.
ua_server_add_trusted() {
    local src=$1 tp ext mark
    [ -n "$UA_SERVER_TRUSTED" ] || fail "ua_server_add_trusted: no server started yet"
    tp=$(host_thumbprint "$src" | tr 'A-F' 'a-f')
    [ -n "$tp" ] || fail "ua_server_add_trusted: cannot read $src"
    ext=der
    grep -q -- '-----BEGIN' "$src" 2>/dev/null && ext=pem
    mark=$(ua_server_log_mark)
    # copy next to the folder, then rename into it: the server's watcher
    # must never see a half-written file
    if ! cp -- "$src" "$UA_SERVER_PKI/added.tmp" ||
        ! mv -- "$UA_SERVER_PKI/added.tmp" "$UA_SERVER_TRUSTED/added[$tp].$ext"; then
        fail "cp $src $UA_SERVER_TRUSTED"
    fi
    if [ -n "$UA_SERVER_PID" ] && ! ua_server_wait_log "pki: trusted [+~]= $tp" 10 "$mark"; then
        ua_server_log_tail 20
        fail "the server did not pick up $src in trusted/certs within 10 s"
    fi
    ok "server trusts $(basename "$src") ($tp)"
}
