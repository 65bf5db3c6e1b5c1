# syntax=docker/dockerfile:1
# One image for every bridge executable (workers, bridgectl, simulators); Compose picks the command.
#
#   docker build -t heartland-sage-bridge .          (context: the repository root)
#
# Stage 1 builds with the Swift toolchain; stage 2 is Debian slim with only the shared libraries the
# binaries load at run time. The Swift runtime and Foundation are linked statically
# (--static-swift-stdlib), so no toolchain library is copied.
ARG SWIFT_VERSION=6.3
ARG DEBIAN_RELEASE=bookworm

FROM swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librabbitmq-dev libcurl4-openssl-dev libsqlite3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused until Package.swift or Package.resolved change.
COPY Package.swift Package.resolved ./
RUN swift package resolve
# SwiftPM checks that every target's folder exists, test targets included, so Tests/ comes along.
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib \
      --product transformer --product fraud-scorer --product sage-loader --product alerter \
      --product heartland-ingest --product sage-ingest --product heartland-loader \
      --product bridgectl --product heartland-sim --product sage-pro-sim \
 && mkdir -p /out \
 && for exe in transformer fraud-scorer sage-loader alerter heartland-ingest sage-ingest heartland-loader \
               bridgectl heartland-sim sage-pro-sim; do \
      cp "$(swift build -c release --show-bin-path)/$exe" /out/; \
    done \
 && strip /out/*

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# librabbitmq4: AMQP; libcurl4: FoundationNetworking (Heartland, Sage, management API);
# libsqlite3-0: ledgers, inbox, operations store; tzdata: store time zones; curl: health checks.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librabbitmq4 libcurl4 libsqlite3-0 ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bridge \
 && mkdir -p /app/var && chown bridge:bridge /app/var
COPY --from=build /out/ /usr/local/bin/
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
