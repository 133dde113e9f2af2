# bench/lib.sh — shell helpers the PyTorch comparison scripts share
# (sourced by compare_pytorch.sh and contention.sh; needs $PY).

# jget FILE KEY.PATH: one value from a JSON file.
jget() {
    "$PY" -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v = v[k]
print(v)' "$1" "$2"
}

# warn_if_busy WHAT: one line on stderr when the 1-minute load average is
# above 0.5 before a timing run starts.
warn_if_busy() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    if "$PY" -c "import sys; sys.exit(0 if float('$load') > 0.5 else 1)"; then
        echo "warning: load average is $load before starting: $1" >&2
    fi
}
