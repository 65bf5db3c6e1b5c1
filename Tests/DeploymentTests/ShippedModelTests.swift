import Foundation
import TestPrograms
import Testing

/// The fraud model the demo and Compose load (Config/fraud-model.json, docs/FRAUD-MODEL.md) is what its committed
/// parameters (scripts/train-fraud-model) give: generated again and trained again here, the same weights.
@Suite struct ShippedModelTests {
    @Test func theShippedModelIsReproducedFromItsCommittedParameters() async throws {
        let script = try Repository.text("scripts/train-fraud-model")
        func parameter(_ name: String) throws -> String {
            try #require(try Repository.matches(of: "\\b\(name)=([0-9.]+)", in: script).first, "scripts/train-fraud-model lost \(name)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("shipped-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let lab = Repository.binDirectory().appendingPathComponent("fraud-lab")
        let history = scratch.appendingPathComponent("history.jsonl").path
        let generated = try await ChildProcess.run(lab, [
            "generate", "--seed", try parameter("data_seed"), "--days", try parameter("days"), "--stores", try parameter("stores"),
            "--tickets-per-store", try parameter("tickets"), "--incidents-per-day", try parameter("incidents"), "--out", history,
        ], deadline: .seconds(300))
        #expect(generated.succeeded, "generate failed: \(generated.error)")
        let retrained = scratch.appendingPathComponent("model.json").path
        let trained = try await ChildProcess.run(lab, [
            "train", "--data", history, "--out", retrained, "--training-seed", try parameter("training_seed"),
            "--target-fpr", try parameter("target_fpr"),
        ], deadline: .seconds(300))
        #expect(trained.succeeded, "train failed: \(trained.error)")

        let shipped = try Self.model(Repository.url("Config/fraud-model.json"))
        let again = try Self.model(URL(fileURLWithPath: retrained))
        #expect(shipped["format"] as? String == "bridge.fraud.model.v1")
        #expect(shipped["featureNames"] as? [String] == again["featureNames"] as? [String])
        #expect(shipped["reviewThreshold"] as? Int == again["reviewThreshold"] as? Int)
        #expect((shipped["hyperparameters"] as? NSDictionary) == (again["hyperparameters"] as? NSDictionary))
        for key in ["weights", "means", "stds"] {
            let a = try #require(shipped[key] as? [Double]), b = try #require(again[key] as? [Double])
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-9 * max(1, abs(x)), "\(key) differs: \(x) against \(y)") }
        }
        let bias = try #require(shipped["bias"] as? Double), biasAgain = try #require(again["bias"] as? Double)
        #expect(abs(bias - biasAgain) <= 1e-9 * max(1, abs(bias)))
    }

    static func model(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }
}
