import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The oldest message each stage's workers are handling, from their `/metrics` or from Prometheus
/// (`bridge_oldest_inflight_message_timestamp_seconds{stage}`, see `WorkerRuntime.InFlightMessages`).
/// Work queues are quorum queues, for which RabbitMQ reports no head-message timestamp.
struct WorkerFigures {
    static let metric = "bridge_oldest_inflight_message_timestamp_seconds"

    /// Per stage: the publish time of the oldest message any replica is handling (nil: replicas
    /// reported, none is handling a message).
    var oldestInFlight: [String: Date?] = [:]
    /// Sources that could not be read, in words.
    var problems: [String] = []
    var consulted: Bool

    static func collect(metricsURLs: [String], prometheusURL: String?) async -> WorkerFigures {
        var figures = WorkerFigures(consulted: !metricsURLs.isEmpty || prometheusURL != nil)
        for url in metricsURLs {
            do {
                figures.merge(parseExposition(try await get(url)))
            } catch {
                figures.problems.append("\(url): \(error)")
            }
        }
        if let prometheusURL {
            do {
                let base = prometheusURL.hasSuffix("/") ? String(prometheusURL.dropLast()) : prometheusURL
                figures.merge(try parsePrometheusQuery(try await get(base + "/api/v1/query?query=" + metric)))
            } catch {
                figures.problems.append("\(prometheusURL): \(error)")
            }
        }
        return figures
    }

    /// One value per replica and stage; 0 means "handling nothing".
    mutating func merge(_ samples: [(stage: String, value: Double)]) {
        for (stage, value) in samples {
            let reported = value > 0 ? Date(timeIntervalSince1970: value) : nil
            switch (oldestInFlight[stage], reported) {
            case (nil, _): oldestInFlight[stage] = reported
            case (.some(.some(let known)), .some(let new)): oldestInFlight[stage] = min(known, new)
            case (.some(.none), .some(let new)): oldestInFlight[stage] = new
            case (.some, nil): break
            }
        }
    }

    /// Prometheus text exposition: `name{stage="x",…} value`.
    static func parseExposition(_ text: String) -> [(stage: String, value: Double)] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(metric + "{"), let close = line.lastIndex(of: "}"),
                  let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? ""),
                  let stage = label("stage", in: line[..<close]) else { return nil }
            return (stage, value)
        }
    }

    private static func label(_ name: String, in labels: Substring) -> String? {
        guard let start = labels.range(of: name + "=\"") else { return nil }
        let rest = labels[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    /// Prometheus HTTP API, instant query: `{"data":{"result":[{"metric":{"stage":…},"value":[t,"v"]}]}}`.
    static func parsePrometheusQuery(_ text: String) throws -> [(stage: String, value: Double)] {
        struct Answer: Decodable {
            struct Data: Decodable { var result: [Sample] }
            struct Sample: Decodable { var metric: [String: String]; var value: [ScalarOrText] }
            var status: String
            var data: Data?
        }
        enum ScalarOrText: Decodable {
            case number(Double), text(String)
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let n = try? c.decode(Double.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
            }
        }
        let answer = try JSONDecoder().decode(Answer.self, from: Data(text.utf8))
        guard answer.status == "success", let data = answer.data else { throw FigureError("Prometheus answered status \(answer.status)") }
        return data.result.compactMap { sample in
            guard let stage = sample.metric["stage"], sample.value.count == 2, case .text(let text) = sample.value[1],
                  let value = Double(text) else { return nil }
            return (stage, value)
        }
    }

    private static func get(_ url: String) async throws -> String {
        guard let target = URL(string: url) else { throw FigureError("not a URL") }
        let (data, response) = try await URLSession.shared.data(for: URLRequest(url: target, timeoutInterval: 10))
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw FigureError("HTTP \(status)") }
        return String(decoding: data, as: UTF8.self)
    }

    struct FigureError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
