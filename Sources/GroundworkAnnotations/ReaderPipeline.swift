import Foundation
import GroundworkCore

/// Runs a reader on a thread of its own while the caller writes what it emits: parsing,
/// converting and preparing the file overlaps with writing the database.
///
/// Everything the reader emits or reports reaches the caller in the order the reader produced it,
/// exactly as if the reader ran on the calling thread: the reader reports into a context of its
/// own, and each batch handed over carries its findings interleaved with the drafts. `prepare`
/// runs on the reader's thread, right after the reader emits a draft, and reports into the same
/// context (its findings come before the draft's); `write` runs on the calling thread. Memory
/// stays flat: the reader runs at most `window` batches of `batchSize` items ahead. If `write`
/// throws, the reader is stopped and the error rethrown; if the reader throws, the error is
/// rethrown after everything it emitted before was written.
enum ReaderPipeline {
    /// One thing the reader produced.
    enum Item<Draft: Sendable>: Sendable {
        case diagnostic(Diagnostic)
        case draft(Draft)
    }

    /// Runs the pipeline without a preparation step: `write` gets the reader's drafts.
    static func run(
        _ reader: any AnnotationReader, context: ReaderContext, batchSize: Int = 256, window: Int = 8,
        write: (AnnotationDraft) throws -> Void
    ) throws {
        try run(reader, context: context, batchSize: batchSize, window: window, prepare: { draft, _ in draft }, write: write)
    }

    /// Runs the pipeline.
    /// - Parameters:
    ///   - prepare: called on the reader's thread for each draft, with the reader's context to
    ///     report into; nil leaves the draft out (its findings still reach the caller).
    ///   - write: called on the calling thread with each prepared draft, in order.
    static func run<Prepared: Sendable>(
        _ reader: any AnnotationReader, context: ReaderContext, batchSize: Int = 256, window: Int = 8,
        prepare: @escaping @Sendable (AnnotationDraft, ReaderContext) -> Prepared?,
        write: (Prepared) throws -> Void
    ) throws {
        let channel = BoundedQueue<[Item<Prepared>]>(window: max(1, window))
        let readerContext = ReaderContext(
            file: context.file, imagesRoot: context.imagesRoot, images: context.images, options: context.options)
        let size = max(1, batchSize)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { done.signal() }
            var batch: [Item<Prepared>] = []
            batch.reserveCapacity(size)
            func flushFindings() {
                for diagnostic in readerContext.takeDiagnostics() { batch.append(.diagnostic(diagnostic)) }
            }
            do {
                try reader.read(readerContext) { draft in
                    let prepared = prepare(draft, readerContext)
                    flushFindings()
                    if let prepared { batch.append(.draft(prepared)) }
                    if batch.count >= size {
                        guard channel.send(batch) else { throw Stopped() }
                        batch = []
                        batch.reserveCapacity(size)
                    }
                }
                flushFindings()
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(nil)
            } catch is Stopped {
                channel.finish(nil)
            } catch {
                flushFindings()
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(error)
            }
        }
        defer {
            channel.stop()
            done.wait()
        }
        while let batch = channel.receive() {
            for item in batch {
                switch item {
                case .diagnostic(let diagnostic): context.report(diagnostic)
                case .draft(let draft): try write(draft)
                }
            }
        }
        if let failure = channel.failure { throw failure }
    }

    /// Thrown inside the reader's thread when the writer has stopped.
    private struct Stopped: Error {}
}
