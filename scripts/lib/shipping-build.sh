# The shipping build (sourced): the release binaries the image ships, with the flags of scripts/lib/shipping-build-flags
# (the Dockerfile reads the same file), in .build-image/, so that scripts/compose-test and scripts/bench-storeday run and
# measure what a deployment runs, and share one build.
#
#   shipping_build JOBS PRODUCT...   build each product (-j JOBS: SwiftPM puts the job count in the compiler's command
#                                    line, so a build with another count compiles everything again); sets shipping_bin
#                                    to the folder of the binaries
#   shipping_products                the products the Dockerfile builds (its `for exe in …; do` loop is the one list)
#   shipping_workers                 of those, the workers (not bridgectl nor the simulators): the products with an
#                                    order of their functions
#
# A product with an order file, scripts/lib/text-order/<product>.txt (written by scripts/text-order; another folder:
# SHIPPING_ORDER_DIR), is linked with its functions in that order (lld --symbol-ordering-file), and linked again when
# the file changes (SwiftPM sees the same flags, so it would not).

shipping_flags() {
  grep -v '^[[:space:]]*#' scripts/lib/shipping-build-flags | tr '\n' ' '
}

shipping_products() {
  python3 -c '
import re
text = open("Dockerfile").read().replace("\\\n", " ")
print(" ".join(re.search(r"for exe in ([a-z -]+); do", text).group(1).split()))'
}

shipping_workers() {
  local product
  for product in $(shipping_products); do
    case "$product" in bridgectl|*-sim) ;; *) printf '%s ' "$product" ;; esac
  done
}

shipping_build() {
  local jobs=$1 product log order orders=${SHIPPING_ORDER_DIR:-$PWD/scripts/lib/text-order} linked_with
  shift
  local flags order_flags
  read -ra flags <<<"$(shipping_flags)"
  # SwiftPM did not compile the Swift modules again when -Xswiftc flags were added to an existing build folder (seen
  # 2026-12-06 with -function-sections: the objects of the day before were linked): a build folder made with other flags
  # is built again from scratch (the dependencies' checkouts are kept).
  if [ -e .build-image/release.yaml ] && [ "$(cat .build-image/.shipping-flags 2>/dev/null)" != "${flags[*]}" ]; then
    echo "shipping build: the flags are not those .build-image/ was built with: building everything again" >&2
    rm -rf .build-image/*-unknown-linux-gnu .build-image/release .build-image/*.yaml .build-image/build.db
  fi
  mkdir -p .build-image
  echo "${flags[*]}" >.build-image/.shipping-flags
  shipping_bin=$(swift build -c release "${flags[@]}" --build-path .build-image --show-bin-path)
  log=$(mktemp)
  for product in "$@"; do
    order=$orders/$product.txt
    order_flags=()
    linked_with=none
    if [ -f "$order" ]; then
      order_flags=(-Xlinker "--symbol-ordering-file=$order" -Xlinker --no-warn-symbol-ordering)
      linked_with="$order $(sha256sum <"$order" | cut -c1-64)"
    fi
    # The binary goes when its order (file or content) is not the one it was linked with: SwiftPM then links it again.
    [ "$(cat "$shipping_bin/.$product.order" 2>/dev/null)" = "$linked_with" ] || rm -f "$shipping_bin/$product"
    swift build -c release "${flags[@]}" "${order_flags[@]}" -j "$jobs" --build-path .build-image --product "$product" \
      >"$log" 2>&1 \
      || { tail -30 "$log" >&2; rm -f "$log"; echo "shipping build: swift build --product $product failed" >&2; return 1; }
    echo "$linked_with" >"$shipping_bin/.$product.order"
  done
  rm -f "$log"
}
