// Placeholder: heartland-loader (issue 5, two-way sync) is being built; this executable does nothing yet.
@main
struct HeartlandLoaderCommand {
    static func main() {
        print("heartland-loader: not built yet (issue 5)")
    }
}
