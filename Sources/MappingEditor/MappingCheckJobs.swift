/// The mapping checks the console runs (`MappingWorkbench.checkInBackground`).
public typealias MappingCheckJobs = CheckJobs<MappingCheckInput, MappingCheck>

/// What a mapping check is run on; two equal inputs give the same check.
public struct MappingCheckInput: Hashable, Sendable {
    public var candidate: String
    public var inForce: String?
    /// Sage's chart as read (number, name, active), in account order.
    public var chart: String
    /// The window's batches and pay runs (`KeptEvents.fingerprint`).
    public var kept: String

    public init(candidate: String, inForce: String?, chart: String, kept: String) {
        self.candidate = candidate
        self.inForce = inForce
        self.chart = chart
        self.kept = kept
    }
}
