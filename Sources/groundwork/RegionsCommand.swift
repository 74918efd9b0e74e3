import ArgumentParser
import Foundation
import GRDB
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

    /// The SQL filter for these options, over a query whose alias for the row's table is `alias`
    /// (with `i` for image and `a` for annotator), the label column being `labelColumn`.
    /// - Returns: the `WHERE …` clause (empty when no filter) and its arguments.
    func sql(_ db: Database, alias: String, labelColumn: String, extra: [(String, String?)] = []) throws -> (
        String, StatementArguments
    ) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let label {
            guard let id = try LabelIndex(db).id(for: label) else { throw unknownLabel(label, option: "--label") }
            clauses.append("\(alias).\(labelColumn) = ?")
            _ = arguments.append(contentsOf: [id])
        }
        for (column, value) in [("i.modality", modality), ("a.name", annotator), ("\(alias).status", status?.rawValue)] + extra {
            guard let value else { continue }
            clauses.append("\(column) = ?")
            _ = arguments.append(contentsOf: [value])
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// `LIMIT n`, or nothing.
    var limitClause: String { limit.map { "LIMIT \($0)" } ?? "" }
}

/// One region as listed.
struct RegionRow: Codable {
    var id: Int64
    var imageId: Int64
    var image: String
    var label: String
    var kind: String
    /// Tight box, x0 y0 x1 y1 (0-based, continuous, half-open, displayed-image pixels).
    var box: [Double]
    var area: Double
    var annotator: String?
    var status: String
    var consensusMethod: String?
    /// COCO's crowd flag: the region outlines a group of instances.
    var iscrowd: Bool
}

/// `groundwork regions list`
struct RegionsListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List regions with their tight boxes.")

    @OptionGroup var filters: AnnotationFilters
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let rows = try project.database.read { db -> [RegionRow] in
            let (whereClause, arguments) = try filters.sql(db, alias: "r", labelColumn: "label_id")
            let limit = filters.limitClause
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.image_id, i.original_path, l.name AS label, r.kind, r.x0, r.y0, r.x1, r.y1, r.area, a.name AS annotator,
                        r.status, r.consensus_method, r.iscrowd
                    FROM region r JOIN image i ON i.id = r.image_id JOIN label l ON l.id = r.label_id LEFT JOIN annotator a ON a.id = r.annotator_id
                    \(whereClause) ORDER BY r.id \(limit)
                    """, arguments: arguments
            ).map {
                RegionRow(
                    id: $0["id"], imageId: $0["image_id"], image: $0["original_path"], label: $0["label"], kind: $0["kind"],
                    box: [$0["x0"], $0["y0"], $0["x1"], $0["y1"]], area: $0["area"], annotator: $0["annotator"],
                    status: $0["status"],
                    consensusMethod: $0["consensus_method"], iscrowd: $0["iscrowd"])
            }
        }
        if output.json {
            try Output.json(rows)
            return
        }
        for row in rows {
            let box = row.box.map { String(format: "%g", $0) }.joined(separator: " ")
            print(
                [String(row.id), String(row.imageId), row.label, row.kind, box, row.annotator ?? "-", row.status].joined(
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

/// A label named in an option that the project does not know: a problem of the project (exit 1).
func unknownLabel(_ name: String, option: String) -> DiagnosticsError {
    DiagnosticsError(
        summary: "unknown label '\(name)'",
        diagnostics: [
            Diagnostic(
                .error, file: option, code: "unknown_label",
                message: "no label or synonym '\(name)' in the project (see groundwork labels list)")
        ])
}
