import Foundation

/// A bounded first-in first-out queue from one producer thread to one consumer thread: the
/// producer waits while `window` elements wait unconsumed, so a long stream is never held whole.
/// The producer ends the stream with ``finish(_:)`` (with its error, if it failed); the
/// consumer may ``stop()`` early, after which ``send(_:)`` returns false.
public final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Element?] = []
    private var head = 0
    private let window: Int
    private var finished = false
    private var stopped = false
    private var storedFailure: (any Error)?

    /// A queue holding at most `window` (at least 1) unconsumed elements.
    public init(window: Int) { self.window = max(1, window) }

    /// The producer's error, once the stream has ended (read on the consumer's thread after
    /// ``receive()`` returned nil).
    public var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return storedFailure
    }

    /// Queues an element, waiting while the window is full; false once the consumer has stopped.
    public func send(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count - head >= window && !stopped { condition.wait() }
        if stopped { return false }
        queue.append(element)
        condition.broadcast()
        return true
    }

    /// Marks the end of the stream, with the producer's error if it failed.
    public func finish(_ failure: (any Error)?) {
        condition.lock()
        finished = true
        storedFailure = failure
        condition.broadcast()
        condition.unlock()
    }

    /// The next element; nil once the stream has ended and every element was taken.
    public func receive() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count && !finished { condition.wait() }
        guard head < queue.count else { return nil }
        let element = queue[head]
        queue[head] = nil
        head += 1
        if head > 64 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    /// The consumer is done: a waiting or later ``send(_:)`` returns false.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
