import Foundation

/// A delivery's body kept in a file, not in memory, until the stage takes it
/// (`AMQPSession.consume(aloneAtBytes:spillDirectory:)`).
///
/// RabbitMQ's prefetch counts messages, not bytes: a consumer that starts on a queue holding several 100 MB batch events,
/// or many 3 MB ones (after a restart, a broker restart, a replica added), is sent as many of them as the prefetch allows
/// before it can pause. Bodies are kept in memory up to a budget; those that arrive beyond it are written here as their
/// frames arrive, and read back one at a time when their turn comes. They stay unacked meanwhile, so a crash loses nothing: the broker sends
/// them again. The file is unlinked as soon as it is made, so it is gone with its descriptor, whatever ends the process.
public final class SpilledBody: Sendable {
    private let descriptor: Int32
    /// The body's size in bytes.
    public let count: Int

    fileprivate init(descriptor: Int32, count: Int) {
        self.descriptor = descriptor
        self.count = count
    }

    deinit { close(descriptor) }

    /// The body read back into memory. It blocks the calling thread for as long as reading `count` bytes takes (the page
    /// cache's, or the disk's): call it off Swift's cooperative pool.
    public func read() throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var offset = 0
            while offset < count {
                let read = pread(descriptor, buffer.baseAddress! + offset, count - offset, off_t(offset))
                if read < 0 && errno == EINTR { continue }
                guard read > 0 else {
                    throw AMQPError.heldDelivery(read < 0 ? "reading it back: \(String(cString: strerror(errno)))"
                                                          : "its file ends after \(offset) of \(count) bytes")
                }
                offset += read
            }
            initialized = count
        }
    }
}

/// A body being written to a file as its content frames arrive (on the connection's thread); `finish` hands the file over
/// as a `SpilledBody`.
final class SpillFile {
    private var descriptor: Int32
    private(set) var written = 0

    /// A new file in `directory`, unlinked at once.
    init(directory: String) throws {
        var template = Array("\(directory)/bridge-delivery-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw AMQPError.heldDelivery("cannot make a file in \(directory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let wrote = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if wrote < 0 && errno == EINTR { continue }
            guard wrote > 0 else {
                throw AMQPError.heldDelivery("writing its file: \(String(cString: strerror(errno)))")
            }
            offset += wrote
            written += wrote
        }
    }

    /// What was written so far, read back (when the file cannot take the rest and the body goes on in memory).
    func readBack() throws -> [UInt8] {
        try SpilledBody(descriptor: dup(descriptor), count: written).read()
    }

    func finish() -> SpilledBody {
        defer { descriptor = -1 }
        return SpilledBody(descriptor: descriptor, count: written)
    }
}
