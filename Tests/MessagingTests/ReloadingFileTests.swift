import Foundation
import Logging
import Messaging
import Testing

/// A configuration file the worker cannot read stops it with the file named and the reason in words.
@Suite struct ReloadingFileTests {
    static func open(_ path: String) throws -> ReloadingFile<String> {
        try ReloadingFile(path: path, what: "mapping", logger: Logger(label: "test")) { text, _ in text }
    }

    @Test func aMissingFileIsNamedWithWhereRelativePathsStart() throws {
        let error = try #require(throws: ConfigurationFile.Unreadable.self) { try Self.open("Config/no-such-mapping.yaml") }
        #expect(error.description.hasPrefix("the mapping file Config/no-such-mapping.yaml cannot be read: no such file"))
        #expect(error.description.contains(FileManager.default.currentDirectoryPath))
    }

    @Test func aFolderIsNotAFile() throws {
        let error = try #require(throws: ConfigurationFile.Unreadable.self) { try Self.open(FileManager.default.temporaryDirectory.path) }
        #expect(error.description.hasSuffix("cannot be read: it is a folder"))
    }

    @Test func aReadableFileIsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reloading-\(UUID().uuidString).yaml").path
        try "a: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Self.open(path).current() == "a: 1\n")
    }
}
