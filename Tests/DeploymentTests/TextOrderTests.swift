import Foundation
import Testing

/// scripts/text-order's parts, on a small C program: the tracer (scripts/lib/text-trace.c) writes down each function's
/// first call, once; scripts/lib/text_order.py turns the trace into an order, first call first; lld given that order
/// lays those functions first. The program's functions are in the opposite order in its source, so a link that ignored
/// the order would fail the last check.
@Suite struct TextOrderTests {
    static let program = #"""
        #include <stdio.h>
        __attribute__((noinline)) int never(int x) { return x * 7; }
        __attribute__((noinline)) int second(int x) { return x + 2; }
        __attribute__((noinline)) int first(int x) { return x * 3; }
        int main(int argc, char **argv) {
          (void)argv;
          int value = first(argc);
          for (int i = 0; i < 3; i++) value = second(value);
          if (argc > 5) value = never(value);
          printf("%d\n", value);
          return 0;
        }
        """#

    @Test func tracedFunctionsAreOrderedByFirstCallAndLinkedFirst() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("text-order-\(UUID().uuidString)")
        let bin = folder.appendingPathComponent("bin"), other = folder.appendingPathComponent("other")
        let traces = folder.appendingPathComponent("traces")
        for directory in [bin, other, traces] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.program.write(to: folder.appendingPathComponent("program.c"), atomically: true, encoding: .utf8)
        let tracer = folder.appendingPathComponent("text-trace.so").path
        try await Self.succeed("clang", ["-shared", "-fPIC", "-O2", "-o", tracer, Repository.url("scripts/lib/text-trace.c").path])
        let link = ["-O2", "-ffunction-sections", "-fuse-ld=lld", folder.appendingPathComponent("program.c").path]
        try await Self.succeed("clang", link + ["-o", bin.appendingPathComponent("program").path])
        try FileManager.default.copyItem(at: bin.appendingPathComponent("program"), to: other.appendingPathComponent("program"))

        let environment = ["LD_PRELOAD": tracer, "BRIDGE_TEXT_TRACE_DIR": traces.path, "BRIDGE_TEXT_TRACE_BIN": bin.path]
        let traced = try await Self.succeed(bin.appendingPathComponent("program").path, [], environment: environment)
        #expect(traced.output == "9\n", "the breakpoints changed what the program computes: \(traced.output)")
        let untraced = try await Self.succeed(other.appendingPathComponent("program").path, [], environment: environment)
        #expect(untraced.output == "9\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: traces.path)
        #expect(files.count == 1 && files[0].hasPrefix("program."), "one trace, of the program in BRIDGE_TEXT_TRACE_BIN only: \(files)")

        let order = folder.appendingPathComponent("order.txt")
        try await Self.succeed("python3", [Repository.url("scripts/lib/text_order.py").path, bin.appendingPathComponent("program").path,
                                           order.path, traces.appendingPathComponent(try #require(files.first)).path])
        let names = try String(contentsOf: order, encoding: .utf8).split(separator: "\n").map(String.init)
        let ran = names.filter { ["main", "first", "second", "never"].contains($0) }
        #expect(ran == ["main", "first", "second"], "the functions that ran, by first call, expected main, first, second: \(names)")

        let ordered = folder.appendingPathComponent("ordered").path
        try await Self.succeed("clang", link + ["-o", ordered, "-Wl,--symbol-ordering-file=\(order.path)"])
        let symbols = try await Self.succeed("nm", ["-n", "--defined-only", ordered]).output.split(separator: "\n")
            .compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count == 3 && ["main", "first", "second", "never"].contains(fields[2]) ? String(fields[2]) : nil
            }
        #expect(symbols == ["main", "first", "second", "never"], "by address in the ordered link: \(symbols)")
    }

    @discardableResult
    static func succeed(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        let result = try await Shell.run(program, arguments, environment: environment)
        #expect(result.succeeded, "\(program) \(arguments.joined(separator: " ")) failed: \(result.error)")
        guard result.succeeded else { throw CancellationError() }
        return result
    }
}
