import Messaging

/// All records of a paged Heartland list, fetched a page at a time as the sequence is iterated; `collect()` fetches up to
/// `concurrency` pages at once when the first page says how many there are (Retail's `pages`).
/// Errors surface from `next()` classified as `HeartlandError`.
public struct HeartlandPages<Element: Sendable>: AsyncSequence, Sendable {
    /// One page: its records and whether another page follows.
    public typealias Page = (records: [Element], hasMore: Bool)
    /// One page and, when the API says it, how many pages the list has.
    public typealias CountedPage = (records: [Element], hasMore: Bool, pageCount: Int?)

    let fetchPage: @Sendable (_ page: Int) async throws -> CountedPage
    /// Pages `collect()` may have in flight at once.
    public let concurrency: Int

    public init(fetchPage: @escaping @Sendable (_ page: Int) async throws -> Page) {
        self.fetchPage = { page in
            let fetched = try await fetchPage(page)
            return (fetched.records, fetched.hasMore, nil)
        }
        concurrency = 1
    }

    /// A list whose pages say how many pages there are, so that `collect()` can fetch up to `concurrency` of them side by side.
    public init(concurrency: Int, countedPages fetchPage: @escaping @Sendable (_ page: Int) async throws -> CountedPage) {
        self.fetchPage = fetchPage
        self.concurrency = Swift.max(1, concurrency)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetchPage: @Sendable (Int) async throws -> CountedPage
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

    /// Every record of every page, in page order, with up to `concurrency` pages in flight once the first page has said
    /// how many there are (a list that does not say is read a page at a time). A page beyond the count (the list grew
    /// while it was read) is read after them, one at a time. The first failure ends the whole read.
    public func collect() async throws -> [Element] {
        let first = try await fetchPage(1)
        guard first.hasMore, !first.records.isEmpty else { return first.records }
        guard let count = first.pageCount, count > 2, concurrency > 1 else {
            var rest = AsyncIterator(fetchPage: fetchPage, nextPage: 2)
            var all = first.records
            while let element = try await rest.next() { all.append(element) }
            return all
        }
        let pages = try await (2...count).mapConcurrently(limit: concurrency, fetchPage)
        var all = first.records
        for fetched in pages {
            all += fetched.records
            if !fetched.hasMore || fetched.records.isEmpty { return all }
        }
        var rest = AsyncIterator(fetchPage: fetchPage, nextPage: count + 1)
        while let element = try await rest.next() { all.append(element) }
        return all
    }
}
