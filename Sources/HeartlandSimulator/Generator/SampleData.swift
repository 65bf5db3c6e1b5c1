import Foundation

/// Fixed reference data for generated days: catalog, names, store zones and tax rates.
enum SampleData {
    struct CatalogEntry {
        let publicId: String
        let description: String
        let priceCents: Int64
        let costCents: Int64
        let taxable: Bool
    }

    static let catalog: [CatalogEntry] = [
        .init(publicId: "10001", description: "Cotton T-shirt", priceCents: 1999, costCents: 650, taxable: true),
        .init(publicId: "10002", description: "Denim jeans", priceCents: 5900, costCents: 2100, taxable: true),
        .init(publicId: "10003", description: "Wool socks (pair)", priceCents: 1250, costCents: 300, taxable: true),
        .init(publicId: "10004", description: "Rain jacket", priceCents: 8900, costCents: 3600, taxable: true),
        .init(publicId: "10005", description: "Baseball cap", priceCents: 2400, costCents: 700, taxable: true),
        .init(publicId: "10006", description: "Canvas tote", priceCents: 1800, costCents: 450, taxable: true),
        .init(publicId: "10007", description: "Leather belt", priceCents: 3500, costCents: 1100, taxable: true),
        .init(publicId: "10008", description: "Sunglasses", priceCents: 4299, costCents: 1200, taxable: true),
        .init(publicId: "10009", description: "Water bottle", priceCents: 2199, costCents: 600, taxable: true),
        .init(publicId: "10010", description: "Scented candle", priceCents: 1599, costCents: 400, taxable: true),
        .init(publicId: "20001", description: "Sourdough loaf", priceCents: 699, costCents: 250, taxable: false),
        .init(publicId: "20002", description: "Whole milk 1 gal", priceCents: 459, costCents: 280, taxable: false),
        .init(publicId: "20003", description: "Coffee beans 12 oz", priceCents: 1499, costCents: 600, taxable: false),
        .init(publicId: "20004", description: "Organic apples (lb)", priceCents: 249, costCents: 110, taxable: false),
        .init(publicId: "20005", description: "Dark chocolate bar", priceCents: 399, costCents: 140, taxable: false),
        .init(publicId: "30001", description: "Paperback novel", priceCents: 1699, costCents: 850, taxable: true),
        .init(publicId: "30002", description: "Greeting card", priceCents: 599, costCents: 90, taxable: true),
        .init(publicId: "30003", description: "Notebook", priceCents: 899, costCents: 250, taxable: true),
        .init(publicId: "30004", description: "Children's book", priceCents: 1299, costCents: 600, taxable: false),
        .init(publicId: "40001", description: "Espresso", priceCents: 325, costCents: 60, taxable: true),
        .init(publicId: "40002", description: "Latte", priceCents: 525, costCents: 110, taxable: true),
        .init(publicId: "40003", description: "Croissant", priceCents: 375, costCents: 120, taxable: true),
        .init(publicId: "50001", description: "Bluetooth speaker", priceCents: 7999, costCents: 3900, taxable: true),
        .init(publicId: "50002", description: "Phone charger", priceCents: 2499, costCents: 700, taxable: true),
    ]

    static let ticketNotes = ["Gift receipt printed", "Price match approved by manager", "Customer will pick up the rest tomorrow",
        "Exchange, original receipt #", "Loyalty card not found", "Tax-exempt form on file? No – charged tax"]

    static let firstNames = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Mateo", "Zoe", "Ethan", "Aria",
        "James", "Maya", "Leo", "Chloe", "Omar", "Priya", "Diego", "Hana", "Kofi"]
    static let lastNames = ["Smith", "Garcia", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Miller", "Davis",
        "Chen", "Wilson", "Martinez", "Okafor", "Cohen", "Silva", "Rossi", "Haddad"]

    struct StoreProfile {
        let city: String
        let state: String
        let zone: String
        let taxRateBasisPoints: Int64
    }

    static let stores: [StoreProfile] = [
        .init(city: "New York", state: "NY", zone: "America/New_York", taxRateBasisPoints: 888),
        .init(city: "Chicago", state: "IL", zone: "America/Chicago", taxRateBasisPoints: 1025),
        .init(city: "Denver", state: "CO", zone: "America/Denver", taxRateBasisPoints: 881),
        .init(city: "Los Angeles", state: "CA", zone: "America/Los_Angeles", taxRateBasisPoints: 950),
    ]

    static let brands: [(String, Int)] = [("VISA", 55), ("MASTERCARD", 25), ("AMEX", 12), ("DISCOVER", 8)]
    static let firstSix = ["VISA": "424242", "MASTERCARD": "545454", "AMEX": "371449", "DISCOVER": "601100"]
    static let entryModes: [(String, Int)] = [("CHIP", 58), ("CONTACTLESS_CHIP", 30), ("SWIPE", 8), ("MANUAL", 4)]

    /// Tax on an amount in cents at a rate in basis points, rounded half away from zero.
    static func tax(_ cents: Int64, basisPoints: Int64) -> Int64 {
        let product = cents * basisPoints
        return product >= 0 ? (product + 5000) / 10000 : -((-product + 5000) / 10000)
    }
}
