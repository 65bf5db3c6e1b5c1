# The shipping build (sourced): the release binaries the image ships, with the flags of scripts/lib/shipping-build-flags
# (the Dockerfile reads the same file), in .build-image/, so that scripts/compose-test and scripts/bench-storeday run and
# measure what a deployment runs, and share one build.
#
#   shipping_build JOBS PRODUCT...   build each product (-j JOBS: SwiftPM puts the job count in the compiler's command
#                                    line, so a build with another count compiles everything again); sets shipping_bin
#                                    to the folder of the binaries
#   shipping_products                the products the Dockerfile builds (its `for exe in …; do` loop is the one list)

shipping_flags() {
  grep -v '^[[:space:]]*#' scripts/lib/shipping-build-flags | tr '\n' ' '
}

shipping_products() {
  python3 -c '
import re
text = open("Dockerfile").read().replace("\\\n", " ")
print(" ".join(re.search(r"for exe in ([a-z -]+); do", text).group(1).split()))'
}

shipping_build() {
  local jobs=$1 product log
  shift
  local flags
  read -ra flags <<<"$(shipping_flags)"
  log=$(mktemp)
  for product in "$@"; do
    swift build -c release "${flags[@]}" -j "$jobs" --build-path .build-image --product "$product" >"$log" 2>&1 \
      || { tail -30 "$log" >&2; rm -f "$log"; echo "shipping build: swift build --product $product failed" >&2; return 1; }
  done
  rm -f "$log"
  shipping_bin=$(swift build -c release "${flags[@]}" --build-path .build-image --show-bin-path)
}
