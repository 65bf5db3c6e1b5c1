extension Collection where Element: Sendable {
    /// `transform` of every element, in the collection's order, with at most `limit` of them running at once as child
    /// tasks of the caller (a limit of one, or one element: one after another on the caller's task).
    public func mapConcurrently<T: Sendable>(limit: Int, _ transform: @escaping @Sendable (Element) async -> T) async -> [T] {
        await boundedMap(limit: limit, transform, isFailure: { _ in false }).results.map { $0! }
    }

    /// The same for a transform that can fail: the first failure cancels the transforms in flight, starts no other, and is
    /// what this throws.
    public func mapConcurrently<T: Sendable>(limit: Int, _ transform: @escaping @Sendable (Element) async throws -> T) async throws -> [T] {
        let (results, failure) = await boundedMap(limit: limit, { element -> Result<T, any Error> in
            do {
                return .success(try await transform(element))
            } catch {
                return .failure(error)
            }
        }, isFailure: { if case .failure = $0 { true } else { false } })
        if let failure { _ = try results[failure]!.get() }
        return try results.map { try $0!.get() }
    }

    /// The results by position, and the position of the first result (in the order they came) that `isFailure` says is
    /// one; after it no other transform starts (those positions stay nil) and those in flight are cancelled.
    private func boundedMap<T: Sendable>(limit: Int, _ transform: @escaping @Sendable (Element) async -> T,
                                         isFailure: (T) -> Bool) async -> (results: [T?], firstFailure: Int?) {
        let elements = Array(self)
        var results = [T?](repeating: nil, count: elements.count)
        guard limit > 1, elements.count > 1 else {
            for (index, element) in elements.enumerated() {
                let result = await transform(element)
                results[index] = result
                if isFailure(result) { return (results, index) }
            }
            return (results, nil)
        }
        return await withTaskGroup(of: (Int, T).self) { group in
            var next = 0
            var failure: Int?
            func startNext() {
                let index = next, element = elements[index]
                group.addTask { (index, await transform(element)) }
                next += 1
            }
            while next < Swift.min(limit, elements.count) { startNext() }
            for await (index, result) in group {
                results[index] = result
                if failure == nil, isFailure(result) {
                    failure = index
                    group.cancelAll()
                }
                if failure == nil, next < elements.count { startNext() }
            }
            return (results, failure)
        }
    }
}
