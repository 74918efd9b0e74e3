import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// What `groundwork validate` found in the project's stored annotations.
public struct ValidationReport: Codable, Sendable {
    public var regionsChecked: Int
    public var vqaItemsChecked: Int
    public var findings: [Diagnostic]
    public var errors: Int
    public var warnings: Int
    public var infos: Int
}

/// Runs the import-time checks again over everything stored, plus the checks that need the whole
/// project: regions against their images (outside, empty, too few points, self-intersecting,
/// wrong mask size), questions (a closed answer that is not yes/no, a choice answer that is not
/// its correct option, a groundable item without a region or with a "no" answer, a target region
/// on another image or of another label than the item's target), and labels no region or question
/// uses (info). Each finding names the annotation file the entry came from and its place there.
public enum ProjectValidation {
    public static func run(_ project: Project) throws -> ValidationReport {
        try project.database.read { db in
            var findings: [Diagnostic] = []
            func source(_ row: Row) -> String {
                let inputs: String? = row["inputs"]
                let decoded = inputs.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
                return decoded?.first ?? "batch \(row["batch_id"] as Int64)"
            }
            var regions = 0
            let regionCursor = try RegionRecord.validationCursor(db)
            while let row = try regionCursor.next() {
                regions += 1
                let id: Int64 = row["id"]
                let place: String = row["source_location"] ?? ""
                let prefix = "region \(id)\(place.isEmpty ? "" : " (\(place))")"
                guard let geometry = try? JSONDecoder().decode(Geometry.self, from: Data((row["geometry"] as String).utf8)) else {
                    findings.append(
                        Diagnostic(
                            .error, file: source(row), code: "bad_geometry",
                            message: "\(prefix): its stored geometry cannot be read"))
                    continue
                }
                for finding in GeometryCheck.check(geometry, width: row["width"], height: row["height"], clip: false).diagnostics
                {
                    findings.append(
                        Diagnostic(
                            finding.severity, file: source(row), code: finding.code, message: "\(prefix): \(finding.message)"))
                }
            }
            var items = 0
            let itemCursor = try VQAItemRecord.validationCursor(db)
            while let row = try itemCursor.next() {
                items += 1
                let id: Int64 = row["id"]
                let place: String = row["source_location"] ?? ""
                let prefix = "question \(id)\(place.isEmpty ? "" : " (\(place))")"
                let file = source(row)
                let answer: String = row["answer"]
                let type: String = row["answer_type"]
                let groundable: Bool = row["groundable"]
                let targets: Int = row["targets"]
                if type == "closed" && answer != "yes" && answer != "no" {
                    findings.append(
                        Diagnostic(
                            .error, file: file, code: "bad_answer",
                            message: "\(prefix): a closed question's answer must be yes or no, not '\(answer)'"))
                }
                if type == "choice" {
                    let options =
                        (row["options"] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
                        ?? []
                    let correct: Int? = row["correct_option"]
                    if correct.map({ !options.indices.contains($0) || options[$0] != answer }) ?? true {
                        findings.append(
                            Diagnostic(
                                .error, file: file, code: "answer_not_in_options",
                                message: "\(prefix): the answer '\(answer)' is not its correct option among \(options)"))
                    }
                }
                if groundable && targets == 0 {
                    findings.append(
                        Diagnostic(
                            .error, file: file, code: "groundable_without_region",
                            message: "\(prefix): groundable, but no target region"))
                }
                if groundable && type == "closed" && answer == "no" {
                    findings.append(
                        Diagnostic(
                            .error, file: file, code: "groundable_negative", message: "\(prefix): answered 'no', yet groundable"))
                }
                if (row["elsewhere"] as Int) > 0 {
                    findings.append(
                        Diagnostic(
                            .error, file: file, code: "target_on_other_image",
                            message: "\(prefix): a target region is on another image"))
                }
                if (row["other_label"] as Int) > 0 {
                    findings.append(
                        Diagnostic(
                            .warning, file: file, code: "target_other_label",
                            message: "\(prefix): a target region has another label than the question's target"))
                }
                if groundable && (row["rejected"] as Int) > 0 {
                    findings.append(
                        Diagnostic(
                            .warning, file: file, code: "rejected_target",
                            message: "\(prefix): a target region was rejected in review"))
                }
            }
            let unused = try LabelRecord.unused(db)
            if !unused.isEmpty {
                findings.append(
                    Diagnostic(
                        .info, file: project.root + "/" + Project.databaseName, code: "unused_labels",
                        message:
                            "\(unused.count) label(s) used by nothing: \(unused.prefix(10).joined(separator: ", "))\(unused.count > 10 ? ", …" : "")"
                    ))
            }
            return ValidationReport(
                regionsChecked: regions, vqaItemsChecked: items, findings: findings,
                errors: findings.filter { $0.severity == .error }.count,
                warnings: findings.filter { $0.severity == .warning }.count,
                infos: findings.filter { $0.severity == .info }.count)
        }
    }
}

/// Review: setting the status of regions and questions. The CLI (`regions review`, `vqa review`)
/// and the review app (`groundwork serve`) both go through ``setStatus(_:ids:table:project:reviewer:expectedVersions:at:)``.
public enum Review {
    /// The statuses a review sets.
    public static let statuses = ReviewStatus.allCases.map(\.rawValue)

    /// Sets the status of the given regions (or questions) by name; an unknown status is an error.
    public static func setStatus(
        _ status: String, ids: [Int64], table: ReviewTable, project: Project, reviewer: String? = nil
    ) throws -> Int {
        guard let known = ReviewStatus(rawValue: status) else {
            throw DiagnosticsError(
                summary: "'\(status)' is not a status: \(statuses.joined(separator: ", "))", diagnostics: [])
        }
        return try setStatus(known, ids: ids, table: table, project: project, reviewer: reviewer)
    }

    /// Sets the status of the given regions (or questions); returns how many rows changed. A row
    /// that changes records the reviewer (default: the user running the tool), the time (ISO 8601
    /// UTC) and one more review version; a row already at `status` is left as it is. All or nothing:
    /// unknown ids are an error, and so is a row whose review version is not the one given in
    /// `expectedVersions` (``ReviewConflict``: someone reviewed it since the caller read it).
    public static func setStatus(
        _ status: ReviewStatus, ids: [Int64], table: ReviewTable, project: Project, reviewer: String? = nil,
        expectedVersions: [Int64: Int] = [:], at date: Date = Date()
    ) throws -> Int {
        let who = try reviewerName(reviewer)
        let when = Provenance.timestamp(date)
        return try project.database.write { db in
            let missing = try table.missing(db, ids: ids)
            if !missing.isEmpty {
                throw DiagnosticsError(
                    summary: "no \(table.noun) with id \(missing.map(String.init).joined(separator: ", ")): nothing changed",
                    diagnostics: [])
            }
            for (id, expected) in expectedVersions.sorted(by: { $0.key < $1.key }) {
                guard let state = try table.reviewState(db, id: id), state.version != expected else { continue }
                throw ReviewConflict(
                    noun: table.noun, id: id, expectedVersion: expected, version: state.version, status: state.status,
                    reviewedBy: state.reviewedBy, reviewedAt: state.reviewedAt)
            }
            return try table.setStatus(db, status, ids: ids, by: who, at: when)
        }
    }

    /// The reviewer's name as recorded: `name` trimmed (it must not be empty nor longer than 200
    /// characters), or the user running the tool when nil.
    public static func reviewerName(_ name: String?) throws -> String {
        guard let name else { return Provenance.current().user }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200, !trimmed.contains(where: \.isNewline) else {
            throw DiagnosticsError(
                summary: "a reviewer's name must be 1 to 200 characters on one line: nothing changed", diagnostics: [])
        }
        return trimmed
    }
}
