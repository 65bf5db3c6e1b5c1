import BridgeClock
import Foundation
import SimulatorKit
import StableHash

/// The defective documents of a messy day: `badPercent` % of the day's tickets and of its card sales,
/// the defects taken in turn so that each kind appears. A bad ticket is served only raw (its valid
/// version is in the manifest); a bad transaction is served raw over its valid normal record, which
/// Heartland's batch totals keep counting; a duplicate is served as the original plus a second record
/// under its id.
extension MessyDayGenerator {
    func addBadDocuments(to day: inout Day, today: [Ticket], returns: ReturnsGenerator.Output, rng: inout SeededRandom) {
        guard badPercent > 0 else { return }
        let zone = clock.location.zone
        let cards = Dictionary(uniqueKeysWithValues: day.transactions.map { ($0.id, $0) })
        let returned = Set(returns.tickets.compactMap(\.returnOfTicketId))
        let candidates = today.filter {
            $0.status == "complete" && $0.returnOfTicketId == nil && $0.giftCardSoldCents == 0 && !returned.contains($0.id)
        }
        var used = Set<Int64>()
        let ticketCount = max(1, (today.count * badPercent + 50) / 100)
        let firstTicketDefect = Int(rng.int(0...Int64(Self.ticketDefects.count - 1)))
        for turn in 0..<ticketCount {
            let defect = Self.ticketDefects[(firstTicketDefect + turn) % Self.ticketDefects.count]
            let fitting = candidates.filter { !used.contains($0.id) && Self.fits(defect, $0) }
            guard !fitting.isEmpty else { continue }
            let ticket = rng.pick(fitting)
            used.insert(ticket.id)
            let corrected = RetailRendering.ticket(ticket, zone: zone, cards: cards)
            var document = BadDocument(
                kind: .ticket, id: String(ticket.id), locationId: ticket.locationId, businessDay: ticket.businessDay,
                defect: defect, field: "", corrected: corrected, ticket: ticket)
            var bad = ticket
            switch defect {
            case .outOfBalance:
                let line = bad.lines.firstIndex { $0.type == TicketLine.tax }!
                bad.lines[line].valueCents += 1
                bad.lines[line].unitPriceCents += 1
                bad.lines[line].originalUnitPriceCents += 1
                document.field = "lines[\(line)].value"
                day.rawTickets.append(RawRecord(RetailRendering.ticket(bad, zone: zone, cards: cards)))
            case .tipOnCash:
                let payment = bad.payments.firstIndex { $0.paymentType == TicketPayment.cash }!
                let tip: Int64 = rng.int(100...300)
                bad.payments[payment].tipCents += tip
                bad.payments[payment].amountCents += tip
                document.field = "payments[\(payment)].tip_amount"
                day.rawTickets.append(RawRecord(RetailRendering.ticket(bad, zone: zone, cards: cards)))
            case .malformedAmount:
                let payment = Int(rng.int(0...Int64(bad.payments.count - 1)))
                document.field = "payments[\(payment)].amount"
                day.rawTickets.append(RawRecord(Self.setting(corrected, "payments", payment, "amount",
                    .string(String(Money.text(bad.payments[payment].amountCents).dropLast()) + "x"))))
            case .missingOffset:
                document.field = "completed_at"
                day.rawTickets.append(RawRecord(corrected.setting("completed_at", .string(Self.wallTime(ticket.completedAt, zone)))))
            case .duplicateId:
                // The original stays a normal ticket, listed first; the second record is another sale of
                // the day sent again under the original's id.
                let other = rng.pick(candidates.filter { $0.id != ticket.id })
                document.field = "id"
                day.rawTickets.append(RawRecord(corrected))
                day.rawTickets.append(RawRecord(RetailRendering.ticket(other, zone: zone, cards: cards).setting("id", .int(ticket.id))))
            case .numberAmount, .foreignCurrency:
                continue
            }
            if defect != .duplicateId { day.tickets.removeAll { $0.id == ticket.id } }
            day.badDocuments.append(document)
        }

        let sales = day.transactions.filter {
            $0.type == "SALE" && $0.settles && $0.locationId == clock.location.id && $0.ticketId.map { !used.contains($0) } ?? false
                && $0.batchId != yesterdayClock.batchId
        }
        let transactionCount = max(1, (sales.count * badPercent + 50) / 100)
        let firstTransactionDefect = Int(rng.int(0...Int64(Self.transactionDefects.count - 1)))
        var usedTransactions = Set<String>()
        for turn in 0..<transactionCount {
            let defect = Self.transactionDefects[(firstTransactionDefect + turn) % Self.transactionDefects.count]
            let fitting = sales.filter { !usedTransactions.contains($0.id) }
            guard !fitting.isEmpty else { break }
            let transaction = rng.pick(fitting)
            usedTransactions.insert(transaction.id)
            let corrected = GPRendering.transaction(transaction, location: clock.location)
            let (field, value): (String, JSONValue) = switch defect {
            case .numberAmount: ("amount", .number(Decimal(transaction.amountCents) / 100))
            case .foreignCurrency: ("currency", "CAD")
            default: ("time_created", .string(Self.wallTime(transaction.timeCreated, zone)))
            }
            day.rawTransactions.append(RawRecord(corrected.setting(field, value)))
            day.badDocuments.append(BadDocument(
                kind: .transaction, id: transaction.id, locationId: transaction.locationId,
                businessDay: Timestamps.day(transaction.timeCreated, in: zone), defect: defect, field: field,
                corrected: corrected, transaction: transaction))
        }
    }

    static func fits(_ defect: BadDocument.Defect, _ ticket: Ticket) -> Bool {
        switch defect {
        case .outOfBalance: ticket.lines.contains { $0.type == TicketLine.tax }
        case .tipOnCash: ticket.payments.contains { $0.paymentType == TicketPayment.cash }
        default: !ticket.payments.isEmpty
        }
    }

    /// Local wall time with no offset: `2026-11-27T09:05:09`.
    static func wallTime(_ date: Date, _ zone: TimeZone) -> String {
        let text = Timestamps.iso8601(date, in: zone)
        return String(text.hasSuffix("Z") ? text.dropLast() : text.dropLast(6))
    }

    /// `json` with `json[array][index][key] = value`.
    static func setting(_ json: JSONValue, _ array: String, _ index: Int, _ key: String, _ value: JSONValue) -> JSONValue {
        guard var elements = json[array]?.arrayValue, elements.indices.contains(index) else { return json }
        elements[index] = elements[index].setting(key, value)
        return json.setting(array, .array(elements))
    }
}
