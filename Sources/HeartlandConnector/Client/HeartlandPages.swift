/// All records of a paged Heartland list, fetched a page at a time as the sequence is iterated.
/// Errors surface from `next()` classified as `HeartlandError`.
public struct HeartlandPages<Element: Sendable>: AsyncSequence, Sendable {
    /// One page: its records and whether another page follows.
    public typealias Page = (records: [Element], hasMore: Bool)

    let fetchPage: @Sendable (_ page: Int) async throws -> Page

    public init(fetchPage: @escaping @Sendable (_ page: Int) async throws -> Page) {
        self.fetchPage = fetchPage
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetchPage: @Sendable (Int) async throws -> Page
        var nextPage = 1
        var buffer: [Element] = []
        var bufferIndex = 0
        var finished = false

        public mutating func next() async throws -> Element? {
            while bufferIndex >= buffer.count {
                guard !finished else { return nil }
                try Task.checkCancellation()
                let page = try await fetchPage(nextPage)
                nextPage += 1
                buffer = page.records
                bufferIndex = 0
                finished = !page.hasMore || page.records.isEmpty
            }
            defer { bufferIndex += 1 }
            return buffer[bufferIndex]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetchPage: fetchPage) }

    /// Every record of every page.
    public func collect() async throws -> [Element] {
        var all: [Element] = []
        for try await element in self { all.append(element) }
        return all
    }
}
