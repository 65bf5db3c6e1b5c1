import Foundation

extension SweepBatch {
    /// The values this side holds of the fields it does not own, remembered per record (entity
    /// `<entity>~others` in `SyncState`, committed with the sweep): returns the fields whose value
    /// changed since the last sweep saw the record (none the first time). Such a change is either the
    /// bridge writing the owner's value, or a person editing a field the other side owns; the loader
    /// tells them apart by comparing with the owner's value (`SyncConflicts`).
    mutating func shadow(_ state: SyncState, entity: String, key: String, fields: [String], values: (String) -> String?) async throws -> [String] {
        let current = Dictionary(uniqueKeysWithValues: fields.map { ($0, values($0) ?? "") })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(current), as: UTF8.self)
        let shadowEntity = entity + "~others"
        let stored = try await state.fingerprint(shadowEntity, key)
        guard stored != text else { return [] }
        records.append((shadowEntity, key, text, ""))
        guard let stored, let previous = try? JSONDecoder().decode([String: String].self, from: Data(stored.utf8)) else { return [] }
        return fields.filter { previous[$0] != nil && previous[$0] != current[$0] }
    }
}
