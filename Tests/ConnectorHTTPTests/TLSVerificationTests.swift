import AsyncHTTPClient
import ConnectorHTTP
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TestPrograms
import Testing

/// Certificates are always verified (docs/HTTP.md, TransportSecurity): an HTTPS server on loopback with a certificate
/// no trusted authority signed is refused as a TLS failure, before any request; the same server is reached by a
/// client that trusts that certificate (so it is the verification that refused, not a broken server).
@Suite struct TLSVerificationTests {
    /// Answers every request `200 {}`.
    final class OK: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "2")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "{}")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    @Test func aCertificateNoTrustedAuthoritySignedIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path, certificate = directory.appendingPathComponent("cert.pem").path
        let made = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        try #require(made.succeeded, "openssl: \(made.error)")
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OK())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = URL(string: "https://127.0.0.1:\(try #require(server.localAddress?.port))/ok")!
        let settings = HTTPPoolSettings(connectionsPerHost: 2, timeout: .seconds(20))

        let verifying = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPPools.configuration(for: settings))
        var trusting = HTTPPools.configuration(for: settings)
        trusting.tlsConfiguration?.trustRoots = .file(certificate)
        let trustingClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: trusting)
        do {
            do {
                _ = try await ConnectorTransport(client: verifying, timeout: settings.timeout).send("GET", url)
                Issue.record("a self-signed certificate was accepted")
            } catch let failure as ConnectorTransport.Failure {
                #expect(failure.kind == .tls, "\(failure.detail)")
            }
            let answer = try await ConnectorTransport(client: trustingClient, timeout: settings.timeout).send("GET", url)
            #expect(answer.status == 200)
        } catch {
            Issue.record("\(error)")
        }
        try await verifying.shutdown()
        try await trustingClient.shutdown()
        try await server.close().get()
    }
}
