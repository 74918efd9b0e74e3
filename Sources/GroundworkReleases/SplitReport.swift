/// What `groundwork split` reports: the parameters, what was placed, target against achieved
/// proportions per part and per stratum, and the leakage check.
public struct SplitReport: Codable, Sendable, Equatable {
    /// One part's totals.
    public struct Part: Codable, Sendable, Equatable {
        public var name: String
        /// The target share of images.
        public var target: Double
        /// The achieved share of images.
        public var achieved: Double
        public var groups: Int
        public var images: Int
        public var regions: Int
        public var questions: Int
    }

    /// One stratum's target against achieved image shares.
    public struct Stratum: Codable, Sendable, Equatable {
        public struct Share: Codable, Sendable, Equatable {
            public var part: String
            public var target: Double
            public var achieved: Double
            public var images: Int
        }

        /// `field=value|field=value` (`all` without stratification).
        public var stratum: String
        public var groups: Int
        public var images: Int
        public var parts: [Share]
    }

    public var name: String
    public var algorithm: String
    public var groupBy: SplitGrouping
    public var stratify: [StratifyField]
    public var seed: UInt64
    public var groups: Int
    /// Groups that kept their earlier part.
    public var kept: Int
    /// Groups placed by this run.
    public var placed: Int
    /// Images without the grouping field, each placed as a group of its own.
    public var ungroupedImages: Int
    public var parts: [Part]
    public var strata: [Stratum]
    public var leakage: LeakageReport

    static func make(
        parameters: SplitParameters, totals: SplitWorkspace.Totals, kept: Int, placed: Int, leakage: LeakageReport
    ) -> SplitReport {
        let imageCount = max(1, totals.images)
        let parts = parameters.parts.map { part in
            let total = totals.parts[part.name] ?? (0, 0, 0, 0)
            return Part(
                name: part.name, target: part.ratio, achieved: Double(total.images) / Double(imageCount),
                groups: total.groups, images: total.images, regions: total.regions, questions: total.questions)
        }
        let strataReport = totals.strata.keys.sorted().map { key in
            let entry = totals.strata[key]!
            let images = entry.values.reduce(0) { $0 + $1.images }
            return Stratum(
                stratum: key, groups: entry.values.reduce(0) { $0 + $1.groups }, images: images,
                parts: parameters.parts.map {
                    let count = entry[$0.name]?.images ?? 0
                    return .init(part: $0.name, target: $0.ratio, achieved: Double(count) / Double(max(images, 1)), images: count)
                })
        }
        return SplitReport(
            name: parameters.name, algorithm: Splitter.algorithm, groupBy: parameters.groupBy, stratify: parameters.stratify,
            seed: parameters.seed, groups: totals.groups, kept: kept, placed: placed,
            ungroupedImages: totals.ungroupedImages, parts: parts, strata: strataReport, leakage: leakage)
    }
}
