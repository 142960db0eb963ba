#!/usr/bin/env bash
# Installs the build into a scratch tree, then builds and runs a program against the installed
# libifx with pkg-config, both shared and static, and checks the installed files. Two ways in:
#   test_install.sh BUILD SRC         cmake --install into a temporary prefix;
#   test_install.sh --deb BUILD SRC   the Debian package, made by cpack as `--target package`
#                                     makes it, unpacked with dpkg -x into a scratch root (its
#                                     files under usr/), and its declared dependencies checked.
set -euo pipefail
deb=false
if [ "${1:-}" = "--deb" ]; then
  deb=true
  shift
fi
build=$1 src=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Checks the tree installed under prefix and runs the programs built against it.
check_installed() { # prefix
  local prefix=$1 lib out
  lib=$(ls -d "$prefix"/lib* | head -n 1)
  for f in "$prefix/bin/ifx" "$prefix/include/ifx/lp.h" "$lib/pkgconfig/ifx.pc" \
           "$lib/libifx.a" "$lib/libiggy_connector_influxdb_sink.so" \
           "$lib/libiggy_connector_influxdb_source.so"; do
    [ -e "$f" ] || { echo "missing after install: $f"; exit 1; }
  done
  ls "$lib"/libifx.so.0* >/dev/null || { echo "no versioned libifx.so.0"; exit 1; }
  for f in README.md configuration.md delivery.md migrating.md architecture.md operations.md \
           examples/connectors/influxdb_sink_v3.toml examples/connectors/influxdb_source_v2.toml; do
    [ -e "$prefix/share/doc/ifx/$f" ] || { echo "missing after install: share/doc/ifx/$f"; exit 1; }
  done
  # the installed example connector files are ones the installed ifx accepts
  "$prefix/bin/ifx" check -c "$prefix/share/doc/ifx/examples/connectors/influxdb_sink_v3.toml" \
    >/dev/null || { echo "the installed ifx refuses the installed sink example"; exit 1; }
  export PKG_CONFIG_PATH="$lib/pkgconfig"
  cc -std=c11 -Wall -Werror "$src/tests/install/hello.c" -o "$scratch/hello" \
    $(pkg-config --cflags --libs ifx)
  out=$(LD_LIBRARY_PATH="$lib" "$scratch/hello")
  [ "$out" = "cpu,host=a usage=64.2 1" ] || { echo "shared: got [$out]"; exit 1; }
  # libifx.a itself, with its dependencies as the system's shared libraries
  cc -std=c11 -Wall -Werror "$src/tests/install/hello.c" -o "$scratch/hello-static" \
    $(pkg-config --cflags ifx) "$lib/libifx.a" $(pkg-config --libs jansson libcurl libisal) \
    -lpthread -lm
  out=$("$scratch/hello-static")
  [ "$out" = "cpu,host=a usage=64.2 1" ] || { echo "static: got [$out]"; exit 1; }
  "$prefix/bin/ifx" version | grep -q '^ifx ' || { echo "installed ifx does not run"; exit 1; }
}

if $deb; then
  # cpack into the scratch directory: its staging tree and the .deb stay out of the build tree
  cpack --config "$build/CPackConfig.cmake" -B "$scratch/pkg" >/dev/null
  pkg=$(ls "$scratch"/pkg/ifx_*.deb)
  depends=$(dpkg-deb -f "$pkg" Depends)
  for d in libc6 libcurl4 libjansson4 libisal2; do
    [[ ", $depends," == *", $d "* ]] || { echo "the package does not depend on $d: [$depends]"; exit 1; }
  done
  dpkg -x "$pkg" "$scratch/root"
  check_installed "$scratch/root/usr"
  echo "package test: 4 passed, 0 failed"
else
  cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
  check_installed "$scratch/prefix"
  echo "install test: 3 passed, 0 failed"
fi
