import Foundation
import GroundworkCore
import GroundworkMetrics
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of work run against a deadline.
private final class Outcome: @unchecked Sendable {
    var problems: [String] = []
    let done = DispatchSemaphore(value: 0)
    let body: () -> [String]
    init(_ body: @escaping () -> [String]) { self.body = body }
}

@Suite("Attention inputs: a named pipe is refused, never waited on")
struct InputPipeTests {
    @Test("a .npy or .safetensors map that is a named pipe is an error naming it")
    func pipesAreRefused() throws {
        let folder = TemporaryFolder()
        for name in ["map.npy", "maps.safetensors"] {
            let fifo = folder.path + "/" + name
            #expect(mkfifo(fifo, 0o644) == 0)
            let outcome = Outcome {
                name.hasSuffix(".npy")
                    ? TensorFiles.npy(path: fifo, display: name, key: "q1").problems.map(\.message)
                    : TensorFiles.safetensors(path: fifo, display: name).problems.map(\.message)
            }
            Thread.detachNewThread {
                outcome.problems = outcome.body()
                outcome.done.signal()
            }
            if outcome.done.wait(timeout: .now() + 10) == .timedOut {
                Issue.record("\(name): blocked on a named pipe")
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
                outcome.done.wait()
            }
            #expect(outcome.problems.contains { $0.contains("named pipe (FIFO)") }, "\(name): \(outcome.problems)")
        }
    }
}
