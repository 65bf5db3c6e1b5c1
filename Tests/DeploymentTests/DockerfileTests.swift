import Foundation
import Testing

@Suite struct DockerfileTests {
    /// Instructions with their continuation lines joined.
    static func instructions() throws -> [String] {
        try Repository.text("Dockerfile").replacingOccurrences(of: "\\\n", with: " ")
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    @Test func copySourcesExistAndAreNotIgnored() throws {
        let ignored = try Repository.text(".dockerignore").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let copies = try Self.instructions().filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
        #expect(copies.count >= 4)
        for copy in copies {
            let words = copy.split(separator: " ").map(String.init).dropFirst().filter { !$0.hasPrefix("--") }
            for source in words.dropLast() {
                let path = source.hasPrefix("./") ? String(source.dropFirst(2)) : source
                #expect(Repository.exists(path), "Dockerfile copies \(path), which does not exist")
                for pattern in ignored {
                    let prefix = pattern.hasSuffix("*") ? String(pattern.dropLast()) : pattern
                    #expect(!(path == prefix || path.hasPrefix(prefix + "/") || (pattern.hasSuffix("*") && path.hasPrefix(prefix))),
                            "Dockerfile copies \(path), but .dockerignore excludes it (\(pattern))")
                }
            }
        }
    }

    @Test func imageHoldsEveryExecutableComposeRunsAndOnlyRuntimeLibraries() async throws {
        let text = try Self.instructions().joined(separator: "\n")
        let built = Set(try Repository.matches(of: #"--product ([a-z-]+)"#, in: text))
        // What is built must also be copied into the image (`for exe in …; do cp …`).
        let copied = try #require(try Repository.matches(of: #"for exe in ([a-z -]+); do"#, in: text).first, "no `for exe in …` copy loop")
        #expect(Set(copied.split(separator: " ").map(String.init)) == built, "the Dockerfile builds \(built.sorted()) but copies \(copied)")
        let products = Set(try Repository.executableProducts())
        #expect(built.isSubset(of: products), "Dockerfile builds \(built.subtracting(products)), which are not products")
        let compose = try await ComposeFile.resolved()
        for (name, service) in compose.bridgeServices {
            let executable = ComposeFile.command(service).first ?? ""
            #expect(built.contains(executable), "service \(name) runs \(executable), which the Dockerfile does not build")
        }
        #expect(text.contains("--static-swift-stdlib"), "the Swift runtime should be linked statically")
        let stages = try Repository.matches(of: #"(?m)^FROM (\S+)"#, in: text)
        #expect(stages.count == 2 && stages[0].hasPrefix("swift:") && stages[1].hasSuffix("-slim"),
                "expected a Swift build stage and a slim runtime stage, found \(stages)")
        let runtime = String(text[try #require(text.range(of: "AS runtime")).lowerBound...])
        for library in ["librabbitmq4", "libcurl4", "libsqlite3-0", "tzdata", "ca-certificates"] {
            #expect(runtime.contains(library), "the runtime stage does not install \(library)")
        }
        for development in ["-dev ", "swift "] {
            #expect(!runtime.contains(development), "the runtime stage installs a build tool (\(development))")
        }
        let entrypoint = try #require(try Repository.matches(of: #"ENTRYPOINT \["([^"]+)"\]"#, in: text).first)
        #expect(text.contains("COPY Compose/entrypoint.sh \(entrypoint)"), "ENTRYPOINT \(entrypoint) is not the copied Compose/entrypoint.sh")
        #expect(text.contains("USER bridge"), "the workers should not run as root")
    }

    /// The release image links the Swift runtime statically; what is left are system libraries.
    /// Each one the debug binaries load (outside the Swift toolchain) must come with a package the
    /// runtime stage installs, or with the base image.
    @Test func runtimePackagesCoverTheLibrariesTheExecutablesLoad() async throws {
        try #require(Shell.available("ldd") && Shell.available("dpkg-query"))
        let text = try Self.instructions().joined(separator: "\n")
        let runtime = String(text[try #require(text.range(of: "AS runtime")).lowerBound...])
        // In debian:bookworm-slim already (required packages) or pulled in by the packages installed.
        let base: Set<String> = ["libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblzma5", "libselinux1", "libpcre2-8-0"]
        let bin = Repository.binDirectory()
        var packages: [String: String] = [:]  // library path → package
        for executable in ["sage-loader", "heartland-ingest"] {
            let path = bin.appendingPathComponent(executable).path
            try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is not built")
            let ldd = try await Shell.run("ldd", [path])
            for library in try Repository.matches(of: #"=> (/\S+)"#, in: ldd.output) where packages[library] == nil {
                // usrmerge: ldd may report /lib/… for a file the package registered as /usr/lib/…, or the reverse.
                let alternative = library.hasPrefix("/usr/") ? String(library.dropFirst(4)) : "/usr" + library
                var owner = try await Shell.run("dpkg-query", ["-S", library])
                if !owner.succeeded { owner = try await Shell.run("dpkg-query", ["-S", alternative]) }
                // Not from a Debian package: the Swift toolchain's own libraries, linked statically in the image.
                guard owner.succeeded, let package = owner.output.split(separator: ":").first.map(String.init) else { continue }
                packages[library] = package
            }
        }
        let direct = Set(packages.values).subtracting(base)
        #expect(!direct.isEmpty)
        // A library's package is covered if the runtime stage installs it or something it depends on there.
        let installed = try Repository.matches(of: #"(?:\s)((?:lib|tzdata|ca-cert|curl)[a-z0-9.+-]*)"#, in: runtime)
        var closure = Set(installed)
        var frontier = installed
        while let package = frontier.popLast() {
            let depends = try await Shell.run("dpkg-query", ["-W", "-f", "${Depends}", package])
            for dependency in try Repository.matches(of: #"(?:^|, |\| )([a-z0-9.+-]+)"#, in: depends.output) where !closure.contains(dependency) {
                closure.insert(dependency)
                frontier.append(dependency)
            }
        }
        for package in direct.sorted() {
            #expect(closure.contains(package), "the executables load a library of \(package), which the runtime stage does not install")
        }
    }
}
