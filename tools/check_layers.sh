#!/bin/sh
# check_layers.sh — includes point down only (make check-layers).
#
#   base/      libc only
#   io/        base
#   models/    base
#   encoders/  base, io
#   sim/       base, io, models, encoders (never sim/app/)
#   sim/app/   everything
#
# Prints every include of a header from a layer above (or beside) the file's
# own, as FILE:LINE: #include "X" (LAYER may not include Y), and exits 1.
cd "$(dirname "$0")/.." || exit 2
allowed() { # $1 = layer of the file, $2 = layer of the header
    case "$1:$2" in
        base:base) return 0 ;;
        io:base|io:io) return 0 ;;
        models:base|models:models) return 0 ;;
        encoders:base|encoders:io|encoders:encoders) return 0 ;;
        sim:base|sim:io|sim:models|sim:encoders|sim:sim) return 0 ;;
        sim/app:*) return 0 ;;
    esac
    return 1
}
layer_of() {
    case "$1" in
        sim/app/*) echo sim/app ;;
        base/*|io/*|models/*|encoders/*|sim/*) echo "${1%%/*}" ;;
        *) echo other ;;
    esac
}
tmp=$(mktemp) || exit 2
for f in $(find base io models encoders sim -name '*.[ch]' 2>/dev/null | sort); do
    fl=$(layer_of "$f")
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
        line=${hit%%:*}
        inc=$(printf '%s\n' "$hit" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
        hl=$(layer_of "$inc")
        if [ "$hl" = other ]; then
            echo "$f:$line: #include \"$inc\" (includes must name a layer folder: base/ io/ models/ encoders/ sim/)"
            echo x
        elif ! allowed "$fl" "$hl"; then
            echo "$f:$line: #include \"$inc\" ($fl/ may not include $hl/: layers are base <- io, models <- encoders <- sim <- sim/app)"
            echo x
        fi
    done
done > "$tmp" 2>&1
grep -v '^x$' "$tmp"
if grep -q "^x$" "$tmp"; then rm -f "$tmp"; echo "check-layers: FAILED"; exit 1; fi
rm -f "$tmp"
echo "check-layers: ok (includes point down only)"
