import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkStore

/// Reads one annotation format. Every reader names its source convention and converts to
/// Groundwork's frame at its edge: nothing past a reader sees the format's own numbers.
public protocol AnnotationReader: Sendable {
    /// The format this reader reads.
    var format: AnnotationFormat { get }

    /// Reads `context.file` in file order, handing each draft to `emit` and every problem to
    /// `context.report`, and carries on after a problem so that all of them are found.
    /// Throws only when the file as a whole cannot be read (missing, unreadable).
    func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws

    /// Whether `probe` is this reader's format, datumaro-style: a match with the reason it was
    /// recognised, a near miss (the input is of this format's family but not readable as it) with
    /// the reason detection stops, or nil (not this format). Default: nil.
    static func detect(_ probe: FormatProbe) -> FormatDetection?
}

extension AnnotationReader {
    public static func detect(_ probe: FormatProbe) -> FormatDetection? { nil }
}
