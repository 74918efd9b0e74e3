import GroundworkCore

/// What a split groups by: every image of one group lands in one part.
public enum SplitGrouping: String, Codable, Sendable, CaseIterable {
    /// One group a patient (`image.patient_id`): the default, since medical datasets leak through patients.
    case patient
    /// One group a study (`image.study_id`).
    case study
    /// One group an image (its SHA-256): only for data without patients.
    case image
    /// One group a source (`image.source`): whole datasets held out.
    case source

    /// The image column the grouping reads (nil for `image`, which groups by the image itself).
    var column: String? {
        switch self {
        case .patient: "patient_id"
        case .study: "study_id"
        case .image: nil
        case .source: "source"
        }
    }
}

/// A field a split can be stratified by.
public enum StratifyField: String, Codable, Sendable, CaseIterable {
    /// The image's modality.
    case modality
    /// The labels of the image's regions and of its questions' targets.
    case label
    /// The types of the image's questions.
    case questionType = "question_type"
}

/// One part of a split and the share of images it should receive.
public struct SplitPart: Codable, Sendable, Equatable {
    /// The part's name: `train`, `val`, `test` or any `[a-z0-9_-]` name.
    public var name: String
    /// The target share, in (0, 1]; the shares of a split sum to 1.
    public var ratio: Double

    /// A part with its target share.
    public init(name: String, ratio: Double) {
        self.name = name
        self.ratio = ratio
    }

    /// Parses `train=0.7,val=0.1,test=0.2`. Names must be unique and `[a-z0-9_-]+`; ratios positive
    /// and summing to 1 within 1e-6.
    public static func parse(_ text: String) throws(DiagnosticsError) -> [SplitPart] {
        var parts: [SplitPart] = []
        var problems: [String] = []
        for (index, item) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let pieces = item.split(separator: "=", omittingEmptySubsequences: false)
            let name = pieces.first.map { String($0).trimmed } ?? ""
            guard pieces.count == 2, let ratio = Double(String(pieces[1]).trimmed) else {
                problems.append("item \(index + 1) '\(item)' is not NAME=RATIO")
                continue
            }
            if name.isEmpty || !name.unicodeScalars.allSatisfy(Self.allowedName.contains) {
                problems.append("part name '\(name)' must be lowercase letters, digits, '_' or '-'")
            } else if parts.contains(where: { $0.name == name }) {
                problems.append("part '\(name)' is named twice")
            }
            if !(ratio > 0 && ratio <= 1) { problems.append("part '\(name)' has ratio \(ratio), not in (0, 1]") }
            parts.append(SplitPart(name: name, ratio: ratio))
        }
        if problems.isEmpty {
            let sum = parts.reduce(0) { $0 + $1.ratio }
            if abs(sum - 1) > 1e-6 { problems.append("the ratios sum to \(sum), not 1") }
        }
        if !problems.isEmpty {
            throw DiagnosticsError(
                summary: "invalid --ratios '\(text)'",
                diagnostics: problems.map {
                    Diagnostic(.error, file: "--ratios", location: .file, code: "invalid_ratios", message: $0)
                })
        }
        return parts
    }

    private static let allowedName = Set("abcdefghijklmnopqrstuvwxyz0123456789_-".unicodeScalars)
}

/// Everything that defines a split: recorded with it, so that re-running it is explicit.
public struct SplitParameters: Codable, Sendable, Equatable {
    /// The split's name (a project can hold several splits, e.g. `default` and `by-source`).
    public var name: String
    /// The parts and their target shares, in the order given.
    public var parts: [SplitPart]
    /// What an indivisible group is.
    public var groupBy: SplitGrouping
    /// The fields whose proportions each part should reproduce, approximately.
    public var stratify: [StratifyField]
    /// The seed of the hash that orders groups.
    public var seed: UInt64

    /// Collects a split's definition.
    public init(name: String, parts: [SplitPart], groupBy: SplitGrouping, stratify: [StratifyField], seed: UInt64) {
        self.name = name
        self.parts = parts
        self.groupBy = groupBy
        self.stratify = stratify
        self.seed = seed
    }
}

extension String {
    fileprivate var trimmed: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
