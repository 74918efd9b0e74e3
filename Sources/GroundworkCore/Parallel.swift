import Foundation

/// Runs `transform` over `0..<count` on several worker threads and hands the results to `consume`
/// on the calling thread, in index order.
///
/// Memory stays bounded: workers never run more than `window` items ahead of the consumer, so a
/// long input is streamed, never held. If `consume` throws, workers stop taking new items, the
/// function waits for the ones in flight and rethrows.
///
/// - Parameters:
///   - workers: worker threads (default: one per active core).
///   - window: how many finished-but-unconsumed results may wait at most.
public func orderedParallelMap<T: Sendable>(
    count: Int,
    workers: Int = ProcessInfo.processInfo.activeProcessorCount,
    window: Int = 32,
    transform: @escaping @Sendable (Int) -> T,
    consume: (Int, T) throws -> Void
) rethrows {
    guard count > 0 else { return }
    let state = ParallelMapState<T>(window: max(window, 1))
    let threads = max(1, min(workers, count))
    let group = DispatchGroup()
    for _ in 0..<threads {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            while let index = state.claim(count: count) {
                let value = transform(index)
                state.deliver(index: index, value: value)
            }
        }
    }
    defer {
        state.cancel()
        group.wait()
    }
    for index in 0..<count {
        let value = state.take(index: index)
        try consume(index, value)
    }
}

private final class ParallelMapState<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0
    private var consumed = 0
    private var cancelled = false
    private var ready: [Int: T] = [:]
    private let window: Int

    init(window: Int) { self.window = window }

    func claim(count: Int) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && next < count && next - consumed >= window {
            condition.wait()
        }
        if cancelled || next >= count { return nil }
        defer { next += 1 }
        return next
    }

    func deliver(index: Int, value: T) {
        condition.lock()
        ready[index] = value
        condition.broadcast()
        condition.unlock()
    }

    func take(index: Int) -> T {
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil { condition.wait() }
        consumed = index + 1
        condition.broadcast()
        return ready.removeValue(forKey: index)!
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
