import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Progress of a long run, drawn on standard error only when it is a terminal.
///
/// Thread-safe: `advance` may be called from any thread; drawing is rate-limited to ten times a second.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var done = 0
    private var lastDraw: UInt64 = 0
    private let start: UInt64
    private var drewSomething = false

    /// - Parameters:
    ///   - enabled: pass false to silence it (e.g. with `--json`); it is silent anyway when stderr is not a terminal.
    public init(total: Int, label: String, enabled: Bool = true) {
        self.total = total
        self.label = label
        self.enabled = enabled && isatty(STDERR_FILENO) == 1 && total > 0
        start = DispatchTime.now().uptimeNanoseconds
    }

    /// Counts `n` more units done.
    public func advance(by n: Int = 1) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += n
        let now = DispatchTime.now().uptimeNanoseconds
        if now - lastDraw < 100_000_000 && done < total { return }
        lastDraw = now
        draw(now: now)
    }

    /// Clears the bar (call once at the end).
    public func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if drewSomething { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func draw(now: UInt64) {
        let fraction = min(1, Double(done) / Double(max(total, 1)))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let seconds = Double(now - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let line = String(format: "\r%@ [%@] %d/%d %.0f/s", label, bar, done, total, rate)
        FileHandle.standardError.write(Data(line.utf8))
        drewSomething = true
    }
}
