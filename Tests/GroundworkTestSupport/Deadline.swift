import Foundation
import Testing

/// The outcome of work run against a deadline.
private final class DeadlineOutcome: @unchecked Sendable {
    var error: (any Error)?
    let done = DispatchSemaphore(value: 0)
    let body: () throws -> Void
    init(_ body: @escaping () throws -> Void) { self.body = body }
}

/// Runs `body` on a thread of its own; when it has not finished within `seconds` (a read blocked
/// on a named pipe), a writer opens and closes each pipe so the read sees end of file, and the
/// test fails instead of hanging. Returns what `body` threw.
public func withDeadline(_ seconds: Double, unblocking fifos: [String], _ body: @escaping () throws -> Void)
    -> (any Error)?
{
    let outcome = DeadlineOutcome(body)
    Thread.detachNewThread {
        do { try outcome.body() } catch { outcome.error = error }
        outcome.done.signal()
    }
    if outcome.done.wait(timeout: .now() + seconds) == .timedOut {
        Issue.record("blocked on a named pipe for \(seconds) s")
        for fifo in fifos {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        outcome.done.wait()
    }
    return outcome.error
}
