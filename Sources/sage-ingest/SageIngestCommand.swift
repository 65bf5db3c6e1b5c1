// Placeholder: sage-ingest (issue 5, two-way sync) is being built; this executable does nothing yet.
@main
struct SageIngestCommand {
    static func main() {
        print("sage-ingest: not built yet (issue 5)")
    }
}
