#!/usr/bin/env bash
# Build ferrax's portable wheel into OUT_DIR: one abi3 wheel (CPython >= 3.10) for
# manylinux2014 x86_64, i.e. any x86_64 Linux with glibc >= 2.17, whatever glibc this
# machine has. maturin links through zig (`--zig`), which links against glibc 2.17's
# symbol versions; `auditwheel show` then reads the symbols the library really needs and
# the script fails unless they fit manylinux_2_17 (or an older tag).
#
#     bash scripts/build_portable_wheel.sh OUT_DIR
#
# Needs the Rust toolchain and Python >= 3.10 with venv; maturin, zig and auditwheel come
# from PyPI into a virtualenv of their own (scripts/portable-wheel-tools.txt). The plain
# `pip install .` of the README does not use any of this: it builds for this machine's
# glibc with the system linker. Cargo's target directory is CARGO_TARGET_DIR, else the
# repository's target/: zig's build goes to its x86_64-unknown-linux-gnu/, beside the
# native build, whose compiled crates it cannot reuse (every rustc call names zig's linker
# wrapper). The tools' virtualenv is kept there too, as portable-wheel-tools/: the wrapper's
# path follows the virtualenv's, so a virtualenv made anew each time would rebuild every
# crate each time.
set -euo pipefail

out=${1:?usage: scripts/build_portable_wheel.sh OUT_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
export CARGO_TARGET_DIR=$target

mkdir -p "$out"
tools=$target/portable-wheel-tools
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT

[[ -x $tools/bin/python ]] || "$python" -m venv "$tools"
"$tools/bin/python" -m pip install -q -r "$repo/scripts/portable-wheel-tools.txt"

# maturin finds zig through the tools' `python -m ziglang`; -i names the interpreter of
# the abi3 build (any CPython >= 3.10 gives the same cp310-abi3 wheel). The wheel is
# built into a fresh folder and moved to OUT_DIR once checked.
(
    cd "$repo"
    PATH="$tools/bin:$PATH" maturin build --release --zig \
        --compatibility manylinux2014 -i "$tools/bin/python" --out "$dist"
)
shopt -s nullglob
built=("$dist"/ferrax-*-cp310-abi3-*manylinux_2_17_x86_64*.whl)
if [[ ${#built[@]} -ne 1 ]]; then
    echo "expected one cp310-abi3 manylinux_2_17_x86_64 wheel, maturin wrote:" >&2
    ls -l "$dist" >&2
    exit 1
fi
wheel=${built[0]}

# auditwheel prints the most compatible tag the symbol versions allow, wrapped over lines.
report=$("$tools/bin/auditwheel" show "$wheel")
echo "$report"
tag=$(tr -s ' \n' ' ' <<<"$report" |
    sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')
case $tag in
    manylinux_2_5_x86_64 | manylinux_2_12_x86_64 | manylinux_2_17_x86_64 | \
        manylinux1_x86_64 | manylinux2010_x86_64 | manylinux2014_x86_64) ;;
    *)
        echo "auditwheel: $wheel fits ${tag:-no manylinux tag}, not manylinux2014 (glibc 2.17)" >&2
        exit 1
        ;;
esac
mv -f "$wheel" "$out/"
echo "portable wheel: $out/$(basename "$wheel") ($tag)"
