# One image for every bridge executable (workers, bridgectl, simulators); Compose picks the command.
# Needs BuildKit (the default of `docker build` since Docker 23 and of Compose v2; with Docker 20.10 set
# DOCKER_BUILDKIT=1): only the stages the runtime needs are built.
#
#   docker build -t heartland-sage-bridge .          (context: the repository root)
#
# Where the binaries come from (build argument BINARIES):
#   build     (default) compiled here, in the official Swift image, with scripts/lib/shipping-build-flags and the
#             workers' function orders (scripts/lib/text-order/). No Package.resolved is needed: `swift package
#             resolve` picks the versions Package.swift allows.
#   prebuilt  copied from .build-image/bin/, compiled on the host by scripts/compose-test with the same
#             products and flags: the path used where no registry serves the Swift image (see README,
#             "The deployment, started for real").
# The runtime stage is Debian slim with only the shared libraries the binaries load; the Swift runtime and
# Foundation are linked statically, so no toolchain library is copied.
ARG SWIFT_VERSION=6.3
ARG DEBIAN_RELEASE=bookworm
ARG BINARIES=build

FROM swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librabbitmq-dev libcurl4-openssl-dev libsqlite3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused until Package.swift changes.
COPY Package.swift ./
RUN swift package resolve
# SwiftPM checks that every target's folder exists, test targets included, so Tests/ comes along.
COPY Sources ./Sources
COPY Tests ./Tests
# The shipping build's flags, the same file scripts/lib/shipping-build.sh reads (static Swift runtime, lld, packed
# relocations, no exported symbols: what the idle RSS figures are measured on).
COPY scripts/lib/shipping-build-flags ./
# The linker script the flags name, at the same path from the package's folder.
COPY scripts/lib/text-layout.ld ./scripts/lib/
# Each worker's functions in the order a store day first runs them (scripts/text-order), as shipping-build.sh links.
COPY scripts/lib/text-order ./text-order
# One product at a time (`swift build` takes one --product); the modules they share are compiled once.
RUN mkdir -p /out \
 && flags=$(grep -v '^[[:space:]]*#' shipping-build-flags | tr '\n' ' ') \
 && for exe in transformer fraud-scorer sage-loader alerter heartland-ingest sage-ingest heartland-loader \
               bridgectl heartland-sim sage-pro-sim; do \
      order=""; \
      [ ! -f "text-order/$exe.txt" ] \
        || order="-Xlinker --symbol-ordering-file=/src/text-order/$exe.txt -Xlinker --no-warn-symbol-ordering"; \
      swift build -c release $flags $order --product "$exe" \
        && cp "$(swift build -c release $flags --show-bin-path)/$exe" /out/ || exit 1; \
    done \
 && strip /out/*

FROM scratch AS prebuilt
COPY .build-image/bin/ /out/

FROM ${BINARIES} AS binaries

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# librabbitmq4: AMQP; libcurl4: FoundationNetworking (Heartland, Sage, management API);
# libsqlite3-0: ledgers, inbox, operations store; tzdata: store time zones; curl: health checks.
# User and group bridge have the fixed id 10001 (a tmpfs is given to them by uid/gid in docker-compose.yml).
# /app/var, /app/fraud, /app/mapping and /app/spill are where Compose mounts the workers' volumes: owned by the runtime
# user here, because a new volume takes the owner of the folder it is mounted on.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librabbitmq4 libcurl4 libsqlite3-0 ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin bridge \
 && mkdir -p /app/var /app/fraud /app/mapping /app/spill && chown bridge:bridge /app/var /app/fraud /app/mapping /app/spill
COPY --from=binaries /out/ /usr/local/bin/
COPY Compose/entrypoint.sh /usr/local/bin/bridge-entrypoint
WORKDIR /app
USER bridge
# Configuration (Topology/, Config/) is mounted, never baked in: see Compose/docker-compose.yml.
ENV BRIDGE_TOPOLOGY=/app/Topology/definitions.json \
    BRIDGE_MAPPING=/app/Config/mapping.yaml \
    BRIDGE_HTTP_HOST=0.0.0.0 \
    BRIDGE_HTTP_PORT=9090
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/bridge-entrypoint"]
CMD ["bridgectl", "--help"]
