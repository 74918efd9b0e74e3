import ArgumentParser
import Foundation
import GroundworkAnnotations
import GroundworkCore
import GroundworkStore

/// `groundwork regions …`
struct RegionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions",
        abstract: "List and review expert regions.",
        subcommands: [RegionsListCommand.self, RegionsReviewCommand.self],
        defaultSubcommand: RegionsListCommand.self)
}

/// Filters shared by the list commands.
struct AnnotationFilters: ParsableArguments {
    @Option(help: "Only this label (name or synonym).")
    var label: String?

    @Option(help: "Only images of this modality.")
    var modality: String?

    @Option(help: "Only this annotator.")
    var annotator: String?

    @Option(help: "Only this status: draft, reviewed, rejected.")
    var status: ReviewStatus?

    @Option(help: "At most this many rows.")
    var limit: Int?

    /// The filter these options make (with a question type for `vqa list`).
    func filter(questionType: QuestionType? = nil) -> AnnotationFilter {
        AnnotationFilter(
            label: label, modality: modality, annotator: annotator, status: status, questionType: questionType, limit: limit)
    }
}

/// `groundwork regions list`
struct RegionsListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List regions with their tight boxes.")

    @OptionGroup var filters: AnnotationFilters
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let rows = try project.regions(matching: filters.filter())
        if output.json {
            try Output.json(rows)
            return
        }
        for row in rows {
            let box = row.box.map { String(format: "%g", $0) }.joined(separator: " ")
            print(
                [
                    String(row.id), String(row.imageId), row.label, row.kind.rawValue, box, row.annotator ?? "-",
                    row.status.rawValue,
                ]
                .joined(
                    separator: "\t"))
        }
    }
}

/// `groundwork regions review ID… --status S`
struct RegionsReviewCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Set the review status of regions (draft, reviewed, rejected).")

    @Argument(help: "Region ids.")
    var ids: [Int64]

    @Option(help: "The new status: draft, reviewed or rejected.")
    var status: ReviewStatus

    @Option(help: ArgumentHelp("The reviewer's name, recorded with the time (default: your user name).", valueName: "name"))
    var reviewer: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        try ReviewRunner.run(
            ids: ids, status: status, table: .region, reviewer: reviewer, project: projectOptions, json: output.json)
    }
}

/// Shared by the review commands.
enum ReviewRunner {
    static func run(
        ids: [Int64], status: ReviewStatus, table: ReviewTable, reviewer: String?, project: ProjectOptions, json: Bool
    ) throws {
        let name = try Review.reviewerName(reviewer)
        let opened = try project.openForWriting()
        let changed = try Review.setStatus(status, ids: ids, table: table, project: opened, reviewer: name)
        if json {
            try Output.json(["changed": changed])
        } else {
            print("\(changed) of \(ids.count) set to \(status.rawValue)")
        }
    }
}
