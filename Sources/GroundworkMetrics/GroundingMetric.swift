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
    /// Whether higher values mean better grounding (Quantus's `score_direction`): false for
    /// the divergences.
    static var higherIsBetter: Bool { get }
    /// What a map without information (a flat map) scores.
    static var chance: ChanceLevel { get }
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
    /// The metric is undefined for this map, for this reason.
    case undefined(UndefinedReason)

    /// The value, if defined.
    public var value: Double? {
        if case .value(let v) = self { return v }
        return nil
    }
}

/// Why a metric is undefined for a map; the raw value is the `note` of a score row.
public enum UndefinedReason: String, Sendable, Hashable, CaseIterable {
    /// The map (ã for VGMED's metrics) sums to zero: it is not a distribution.
    case zeroMass = "zero_mass"
    /// The map has negative cells where the metric needs a distribution.
    case negativeValues = "negative_values"
    /// No cell is positive (energy pointing game).
    case noPositiveMass = "no_positive_mass"
    /// The target covers every cell: there is no background to compare with.
    case noBackground = "no_background"
    /// Both groups are constant but differ (CNR's denominator is zero, its numerator is not).
    case zeroVariance = "zero_variance"
}

/// The chance level of a metric: what a flat map (no information) scores. The score summary
/// reports, per metric, the mean over scored questions of the metric on a flat map; this states
/// what that mean is.
public enum ChanceLevel: Sendable, Hashable {
    /// The same value whatever the target (attention ratio 1, AUROC 0.5, NSS 0, …).
    case constant(Double)
    /// A value that depends on the target's share of the grid (pointing game |P| / N, KL
    /// divergence ln(N / |G|), …): the metric evaluated on a flat map.
    case flatMap
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

    /// Whether higher is better for the metric of this id, versioned id or id of another version
    /// (`kl_divergence@2` read from an older or newer run's summary); an unknown metric is taken
    /// as higher-is-better.
    public static func higherIsBetter(_ name: String) -> Bool {
        (named(name) ?? named(String(name.prefix { $0 != "@" })))?.higherIsBetter ?? true
    }
}
