import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so a folder watcher sees either nothing or the whole file: the bytes go to a
/// hidden temporary name in the same folder, are flushed to disk, then renamed into place (and the
/// folder is flushed so the rename survives a crash).
enum AtomicFileWriter {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ data: Data, to target: URL) throws(Failure) {
        let folder = target.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary.path): \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(temporary.path) }
        }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        let synced = written && fsync(fd) == 0
        let failure = errnoText()
        close(fd)
        guard synced else { throw Failure(description: "cannot write \(temporary.path): \(failure)") }
        guard rename(temporary.path, target.path) == 0 else {
            throw Failure(description: "cannot rename into \(target.path): \(errnoText())")
        }
        ok = true
        let dir = open(folder.path, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    private static func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, bytes, count)
        #else
        return Darwin.write(fd, bytes, count)
        #endif
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
