import Foundation

/// A minimal HTTP/1.1 client over a socket, for chromedriver only: chromedriver writes its headers
/// without a space after the colon (`Content-Length:250`), which Foundation's URLSession on Linux
/// refuses ("Failed writing header"). One request per connection (`Connection: close`).
enum WireHTTP {
    static func request(_ method: String, port: Int, path: String, body: Data?) async throws -> Data {
        try await withCheckedThrowingContinuation { continuation in
            // Blocking socket calls: on a thread of their own, not on the cooperative pool.
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingRequest(method, port: port, path: path, body: body) })
            }
        }
    }

    private static func blockingRequest(_ method: String, port: Int, path: String, body: Data?) throws -> Data {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WebDriverError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw WebDriverError("cannot connect to 127.0.0.1:\(port)") }
        var timeout = timeval(tv_sec: 90, tv_usec: 0)  // a page load may take a while; a hung driver must not hang the test
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" } else { head += "Content-Length: 0\r\n" }
        var request = Data((head + "\r\n").utf8)
        if let body { request.append(body) }
        try request.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, 0)
                guard n > 0 else { throw WebDriverError("send() failed") }
                sent += n
            }
        }
        // Read until the body is complete: by Content-Length, by the last chunk, or by the end of the connection.
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let split = response.range(of: Data("\r\n\r\n".utf8)) {
                let headers = String(decoding: response[..<split.lowerBound], as: UTF8.self).lowercased()
                let payload = Data(response[split.upperBound...])
                if let length = contentLength(headers), payload.count >= length { return payload.prefix(length) }
                if headers.contains("chunked"), payload.range(of: Data("0\r\n\r\n".utf8)) != nil { return try dechunk(payload) }
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { throw WebDriverError("recv() failed") }
            if n == 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw WebDriverError("no HTTP response from 127.0.0.1:\(port)") }
        return Data(response[split.upperBound...])
    }

    private static func contentLength(_ headers: String) -> Int? {
        for line in headers.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    private static func dechunk(_ data: Data) throws -> Data {
        var out = Data(), rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw WebDriverError("bad chunk") }
            if size == 0 { break }
            let start = lineEnd.upperBound
            out.append(rest[start..<(start + size)])
            rest = rest[(start + size + 2)...]
        }
        return out
    }
}
