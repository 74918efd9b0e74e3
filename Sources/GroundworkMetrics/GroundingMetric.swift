/// A grounding metric: one type per metric, a uniform call, an id and a version (the Quantus
/// style: `Metric.evaluate(map)` for every metric).
///
/// A metric scores one attention map (row-major over the model's grid, one value per cell)
/// against the target of one question (`TargetCells`: a weight in [0, 1] per cell, 1 or 0 under
/// the `overlap` cell rule). Every conforming type states its formula, its source and its
/// conventions in its doc comment; the conventions shared by all metrics are stated once, on
/// `MapWorkspace`.
///
/// A metric returns a value or a stated reason why the value is undefined for this map (for
/// example `no_background` for an AUROC whose target covers every cell). It never traps, and
/// it never sees a non-finite map: those are rejected before scoring (see `MapWorkspace`).
public protocol GroundingMetric: Sendable {
    /// The metric's stable identifier, for example `attention_ratio`.
    static var id: String { get }
    /// The metric's version; bumped whenever its definition or a convention changes.
    static var version: Int { get }
    /// Whether the metric reads the relative map ã (VGMED's metrics) rather than the raw map a.
    static var usesRelativeMap: Bool { get }
    /// Scores the map held by `map` against its target.
    static func evaluate(_ map: MapWorkspace) -> MetricOutcome
}

extension GroundingMetric {
    /// The identifier with its version, for example `attention_ratio@1`.
    public static var versionedID: String { "\(id)@\(version)" }
    /// By default a metric reads the raw map.
    public static var usesRelativeMap: Bool { false }
}

/// What a metric gives for one map: a finite value, or the reason it has none.
public enum MetricOutcome: Sendable, Hashable {
    /// A finite value.
    case value(Double)
    /// The metric is undefined for this map; the reason is a short code such as `zero_mass`.
    case undefined(String)

    /// The value, if defined.
    public var value: Double? {
        if case .value(let v) = self { return v }
        return nil
    }
}

/// Reasons a metric can be undefined (the `note` of a score row).
public enum UndefinedReason {
    /// The map (ã for VGMED's metrics) sums to zero: it is not a distribution.
    public static let zeroMass = "zero_mass"
    /// The map has negative cells where the metric needs a distribution.
    public static let negativeValues = "negative_values"
    /// No cell is positive (energy pointing game).
    public static let noPositiveMass = "no_positive_mass"
    /// The target covers every cell: there is no background to compare with.
    public static let noBackground = "no_background"
    /// Both groups are constant but differ (CNR's denominator is zero, its numerator is not).
    public static let zeroVariance = "zero_variance"
}

/// The registry of metrics, in the order they are reported.
public enum Metrics {
    /// Every metric, in report order.
    public static let all: [any GroundingMetric.Type] = [
        AttentionRatio.self, KLDivergence.self, JSDivergence.self, PointingGame.self, EnergyPointingGame.self,
        RelevanceRankAccuracy.self, AUROC.self, NSS.self, MeanIoU.self, CNR.self,
    ]

    /// The metric with this id (`attention_ratio`) or versioned id (`attention_ratio@1`).
    public static func named(_ name: String) -> (any GroundingMetric.Type)? {
        all.first { $0.id == name || $0.versionedID == name }
    }
}
