import ArgumentParser
import GroundworkCore
import GroundworkReleases
import GroundworkStore

extension SplitGrouping: ExpressibleByArgument {}

/// `groundwork split`
struct SplitCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Place the project's images into parts (train, val, test, …) by patient, without leakage.",
        discussion: Help.reflow(
            """
            Groups, never single items, are placed: every image, region and question of one patient (or
            study, source) lands in one part. An image without the grouping field is a group of its own
            (counted in the report). Placement is deterministic for a seed and stable: running the same
            command after new images were imported keeps every earlier assignment and places only the new
            groups. --reshuffle starts over. Test-only benchmarks use --ratios test=1.

            Placement (hash-ordered-deficit@1): new groups are ordered by stratum, then by SHA-256 of
            "seed:group"; each goes to the part furthest below its target share of images in its stratum.

            The leakage check (the same as `groundwork check leakage`) runs at the end; leakage is reported
            as a warning here and is an error for `release create`.

            Exit codes: 0 the split was saved (leakage, if any, is reported); 1 invalid ratios or changed
            parameters without --reshuffle; 2 project error.
            """))

    @Argument(help: "The split's name.")
    var name = "default"

    @Option(help: "Parts and target shares of images, summing to 1, e.g. train=0.7,val=0.1,test=0.2.")
    var ratios: String

    @Option(name: .customLong("group-by"), help: "What must never be divided: patient, study, image or source.")
    var groupBy: SplitGrouping = .patient

    @Option(
        help: ArgumentHelp(
            "Comma-separated fields whose proportions every part should reproduce: modality, label, question_type.",
            valueName: "fields"),
        transform: StratifyField.parseList)
    var stratify: [StratifyField]?

    @Option(help: "The seed of the placement order.")
    var seed: UInt64 = 0

    @Flag(help: "Discard every earlier assignment of this split and place all groups afresh.")
    var reshuffle = false

    @Option(help: "Near-duplicate images: perceptual-hash Hamming distance at most this (of 64 bits).")
    var nearDuplicateThreshold = LeakageCheck.defaultThreshold

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let report = try Output.attempt(json: output.json) {
            let parts = try SplitPart.parse(ratios)
            let parameters = SplitParameters(
                name: name, parts: parts, groupBy: groupBy, stratify: stratify ?? [], seed: seed)
            return try Splitter.run(
                project, parameters: parameters, reshuffle: reshuffle, nearDuplicateThreshold: nearDuplicateThreshold)
        }
        try Output.report(report, json: output.json) {
            print(
                "Split '\(report.name)' by \(report.groupBy.rawValue): \(report.groups) group(s), \(report.placed) placed now, \(report.kept) kept"
            )
            if report.ungroupedImages > 0 {
                Output.note(
                    "warning: \(report.ungroupedImages) image(s) have no \(report.groupBy.rawValue) and were placed as groups of their own"
                )
            }
            for part in report.parts {
                print(
                    "  \(part.name)\ttarget \(percent(part.target))\tachieved \(percent(part.achieved))\t\(part.groups) group(s), \(part.images) image(s), \(part.regions) region(s), \(part.questions) question(s)"
                )
            }
            if !report.stratify.isEmpty {
                print("Per stratum (achieved share of images against target):")
                for stratum in report.strata {
                    let shares = stratum.parts.map { "\($0.part) \(percent($0.achieved))/\(percent($0.target))" }
                    print("  \(stratum.stratum)\t\(stratum.images) image(s)\t\(shares.joined(separator: "  "))")
                }
            }
        }
        if !report.leakage.isClean { Output.note("warning: \(report.leakage.summary)") }
    }
}

extension StratifyField {
    /// `--stratify modality,label`: the fields, each once, in the order given. An unknown field is
    /// a usage error (exit 64) that names it and the fields there are.
    static func parseList(_ text: String) throws -> [StratifyField] {
        var fields: [StratifyField] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let field = StratifyField(rawValue: String(item)) else {
                throw ValidationError(
                    "'\(item)' is not a field to stratify by: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !fields.contains(field) { fields.append(field) }
        }
        return fields
    }
}

/// `0.7` as `70.0%`.
func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
