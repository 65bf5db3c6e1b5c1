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
        let reincluded = ignored.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) }
        let copies = try Self.instructions().filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
        #expect(copies.count >= 4)
        for copy in copies {
            let words = copy.split(separator: " ").map(String.init).dropFirst().filter { !$0.hasPrefix("--") }
            for source in words.dropLast() {
                let path = source.hasPrefix("./") ? String(source.dropFirst(2)) : source
                // The prebuilt stage's binaries are made by scripts/compose-test (BINARIES=prebuilt), never in a clone.
                if path.hasPrefix(".build-image/bin") {
                    #expect(reincluded.contains(".build-image/bin"), ".dockerignore must let .build-image/bin through (!.build-image/bin)")
                    continue
                }
                #expect(Repository.exists(path), "Dockerfile copies \(path), which does not exist")
                for pattern in ignored where !pattern.hasPrefix("!") {
                    let prefix = pattern.hasSuffix("*") ? String(pattern.dropLast()) : pattern
                    #expect(!(path == prefix || path.hasPrefix(prefix + "/") || (pattern.hasSuffix("*") && path.hasPrefix(prefix))),
                            "Dockerfile copies \(path), but .dockerignore excludes it (\(pattern))")
                }
            }
        }
    }

    @Test func imageHoldsEveryExecutableComposeRunsAndOnlyRuntimeLibraries() async throws {
        let text = try Self.instructions().joined(separator: "\n")
        // One loop builds and copies each product (`for exe in …; do swift build … --product "$exe" && cp …`); scripts/compose-test
        // reads the same list for its host build.
        let loop = try #require(try Repository.matches(of: #"for exe in ([a-z -]+); do"#, in: text).first, "no `for exe in …` build loop")
        let built = Set(loop.split(separator: " ").map(String.init))
        #expect(text.contains(#"--product "$exe""#) && text.contains(#"/$exe" /out/"#), "the loop must build and copy each product")
        let products = Set(try Repository.executableProducts())
        #expect(built.isSubset(of: products), "Dockerfile builds \(built.subtracting(products)), which are not products")
        let compose = try await ComposeFile.resolved()
        for (name, service) in compose.bridgeServices {
            let executable = ComposeFile.command(service).first ?? ""
            #expect(built.contains(executable), "service \(name) runs \(executable), which the Dockerfile does not build")
        }
        // The build's flags are scripts/lib/shipping-build-flags, the file scripts/compose-test and scripts/bench-storeday
        // build with too (scripts/lib/shipping-build.sh).
        #expect(text.contains("COPY scripts/lib/shipping-build-flags ") && text.contains(#"swift build -c release $flags $order --product "$exe""#),
                "the image must build with scripts/lib/shipping-build-flags and each worker's order")
        let flags = try Repository.text("scripts/lib/shipping-build-flags").split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.joined(separator: " ")
        #expect(flags.contains("--static-swift-stdlib"), "the Swift runtime should be linked statically")
        // A file the flags name (the linker script) is read from the package's folder: the image must have it at the same path.
        for script in try Repository.matches(of: #"-Xlinker -T -Xlinker (\S+)"#, in: flags) {
            #expect(Repository.exists(script), "the flags name \(script), which does not exist")
            #expect(text.contains("COPY \(script) ./\((script as NSString).deletingLastPathComponent)/"),
                    "the image must have \(script) where the flags look for it")
        }
        // The workers' function orders (scripts/text-order), one file per worker the loop builds.
        #expect(text.contains("COPY scripts/lib/text-order ./text-order") && text.contains(#"text-order/$exe.txt"#),
                "the image must link each worker with its order, as scripts/lib/shipping-build.sh does")
        let stages = try Repository.matches(of: #"(?m)^FROM (\S+ AS \S+)"#, in: text)
        #expect(stages.count == 4 && stages[0].hasPrefix("swift:") && stages[0].hasSuffix(" AS build")
                && stages[1] == "scratch AS prebuilt" && stages[2] == "${BINARIES} AS binaries" && stages[3].hasSuffix("-slim AS runtime"),
                "expected a Swift build stage, the prebuilt binaries, the choice between them and a slim runtime stage, found \(stages)")
        #expect(text.contains("ARG BINARIES=build"), "the official Swift image must build by default")
        #expect(text.contains("COPY --from=binaries /out/ /usr/local/bin/"))
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

    /// A clean clone has no Package.resolved (.gitignore keeps it out): the image must build without one.
    @Test func buildNeedsNoPackageResolved() throws {
        let gitignore = try Repository.text(".gitignore").split(separator: "\n").map(String.init)
        #expect(gitignore.contains("Package.resolved"))
        for instruction in try Self.instructions() where instruction.hasPrefix("COPY ") || instruction.hasPrefix("ADD ") {
            #expect(!instruction.contains("Package.resolved"), "the Dockerfile needs Package.resolved, which a clone does not have: \(instruction)")
        }
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
