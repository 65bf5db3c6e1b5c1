import Foundation
import HeartlandConnector
import Testing

/// `HeartlandPages.collect()` with pages in flight side by side: every record once, in page order, never more pages at
/// once than allowed, a list that grows or shrinks while it is read, and the first failure ending the read.
@Suite struct PageConcurrencyTests {
    /// A paged list of `total` numbers, `size` a page, that records how many pages were being fetched at once.
    actor Source {
        var total: Int
        let size: Int
        var inFlight = 0, most = 0, fetched: [Int] = []
        var failing: Int?

        init(total: Int, size: Int, failing: Int? = nil) {
            self.total = total
            self.size = size
            self.failing = failing
        }

        func page(_ page: Int) async throws -> HeartlandPages<Int>.CountedPage {
            inFlight += 1
            most = max(most, inFlight)
            defer { inFlight -= 1 }
            // Let the other fetches start before this one answers: until another is in flight, within a bound (a busy
            // machine's two threads may start them late: 20 yields alone once saw no overlap; the last page has none).
            for _ in 0..<20 { await Task.yield() }
            var yields = 0
            while inFlight < 2, yields < 2_000 {
                await Task.yield()
                yields += 1
            }
            fetched.append(page)
            if page == failing { throw HeartlandError.unavailable("page \(page) failed") }
            let pages = (total + size - 1) / size
            let records = Array(((page - 1) * size)..<min(total, page * size))
            return (records, page < pages, pages)
        }

        func grow(to total: Int) { self.total = total }
    }

    static func pages(_ source: Source, concurrency: Int) -> HeartlandPages<Int> {
        HeartlandPages(concurrency: concurrency) { page in try await source.page(page) }
    }

    @Test func everyRecordOnceInPageOrderWithAtMostTheAllowedPagesInFlight() async throws {
        for concurrency in [1, 2, 4, 8] {
            let source = Source(total: 103, size: 10)
            let records = try await Self.pages(source, concurrency: concurrency).collect()
            #expect(records == Array(0..<103), "concurrency \(concurrency)")
            let most = await source.most
            #expect(most <= concurrency, "concurrency \(concurrency): \(most) in flight")
            let fetched = await source.fetched
            #expect(fetched.sorted() == Array(1...11), "each page once")
        }
        // The pages did overlap when allowed (the fetches yield before answering).
        let source = Source(total: 103, size: 10)
        _ = try await Self.pages(source, concurrency: 4).collect()
        #expect(await source.most > 1)
    }

    @Test func aListThatGrewIsReadToItsEndAndOneThatShrankStopsAtItsLastPage() async throws {
        let growing = Source(total: 50, size: 10)
        let pages = HeartlandPages<Int>(concurrency: 3) { page in
            let fetched = try await growing.page(page)
            if page == 1 { await growing.grow(to: 72) }  // records arrive after the first page said 5 pages
            return page == 1 ? (fetched.records, fetched.hasMore, 5) : fetched
        }
        #expect(try await pages.collect() == Array(0..<72))
        let shrinking = HeartlandPages<Int>(concurrency: 3) { page in
            // The first page says 6 pages; the list has 3 when the others are read.
            page == 1 ? (Array(0..<10), true, 6) : page <= 3 ? (Array((page - 1) * 10..<page * 10), page < 3, 3) : ([], false, 3)
        }
        #expect(try await shrinking.collect() == Array(0..<30))
    }

    @Test func theFirstFailureEndsTheRead() async throws {
        let source = Source(total: 100, size: 10, failing: 6)
        await #expect(throws: HeartlandError.self) { _ = try await Self.pages(source, concurrency: 4).collect() }
    }

    @Test func aListThatDoesNotSayHowManyPagesIsReadOneAtATime() async throws {
        let source = Source(total: 35, size: 10)
        let pages = HeartlandPages<Int>(fetchPage: { page in
            let fetched = try await source.page(page)
            return (fetched.records, fetched.hasMore)
        })
        #expect(try await pages.collect() == Array(0..<35))
        #expect(await source.most == 1)
    }
}
