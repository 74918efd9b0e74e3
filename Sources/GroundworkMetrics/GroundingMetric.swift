/// A grounding metric: one type per metric, a uniform call, an id and a version.
///
/// A metric scores one attention map (row-major over the model's grid) against the target cells
/// of one question. Every conforming type states its formula, its source and its conventions in
/// its doc comment.
public protocol GroundingMetric: Sendable {
    /// The metric's stable identifier, for example `attention_ratio`.
    static var id: String { get }
    /// The metric's version; bumped whenever its definition or a convention changes.
    static var version: Int { get }
}

extension GroundingMetric {
    /// The identifier with its version, for example `attention_ratio@1`.
    public static var versionedID: String { "\(id)@\(version)" }
}
