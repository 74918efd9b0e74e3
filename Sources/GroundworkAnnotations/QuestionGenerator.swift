import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkStore
import Yams

/// A question template file (`annotations/templates/*.yaml`).
public struct TemplateFile: Codable, Sendable, Equatable {
    public struct Phrasing: Codable, Sendable, Equatable {
        public var id: String
        /// The question, with `{label}` where the target's name goes.
        public var text: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, text
        }
    }

    public var id: String
    public var questionType: QuestionType
    public var answerType: AnswerType
    public var phrasings: [Phrasing]
    /// Labels allowed as negatives, by image modality (`*`: any other modality).
    public var negatives: [String: [String]]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, phrasings, negatives
        case questionType = "question_type"
        case answerType = "answer_type"
    }

    /// Reads and checks a template file.
    public static func load(path: String) throws(DiagnosticsError) -> TemplateFile {
        func fail(_ location: SourceLocation, _ code: String, _ message: String) -> DiagnosticsError {
            DiagnosticsError(
                summary: "\(path): not a usable template file",
                diagnostics: [Diagnostic(.error, file: path, location: location, code: code, message: message)])
        }
        let text: String
        do { text = try FileIO.readText(path) } catch { throw fail(.file, "unreadable", "cannot read: \(error.reason)") }
        let file = try YAMLDocument.decode(
            TemplateFile.self, text: text, file: path, summary: "\(path): not a usable template file")
        var problems: [Diagnostic] = []
        var ids: Set<String> = []
        if file.phrasings.isEmpty {
            problems.append(
                Diagnostic(.error, file: path, location: .jsonPointer("/phrasings"), code: "empty", message: "no phrasings"))
        }
        for (i, phrasing) in file.phrasings.enumerated() {
            if !phrasing.text.contains("{label}") {
                problems.append(
                    Diagnostic(
                        .error, file: path, location: .jsonPointer("/phrasings/\(i)/text"), code: "no_placeholder",
                        message: "the phrasing must contain {label}"))
            }
            if !ids.insert(phrasing.id).inserted {
                problems.append(
                    Diagnostic(
                        .error, file: path, location: .jsonPointer("/phrasings/\(i)/id"), code: "duplicate_id",
                        message: "phrasing id '\(phrasing.id)' is used twice"))
            }
        }
        if !problems.isEmpty { throw DiagnosticsError(summary: "\(path): \(problems.count) problem(s)", diagnostics: problems) }
        return file
    }
}

/// What `groundwork vqa generate` did.
public struct GenerationReport: Codable, Sendable {
    public var template: String
    public var seed: UInt64
    public var positives: Int
    public var negatives: Int
    /// Questions that were already in the project (a re-run adds nothing).
    public var existing: Int
    /// Findings (image, label) whose regions are all crowd regions: no question is made.
    public var crowdOnly: Int = 0
    public var batchId: Int64?
}

/// Makes VGMED-style questions from the project's regions.
///
/// For every (image, label) with at least one region that is not rejected, one question is made
/// from a phrasing picked by a seeded hash of (seed, image SHA-256, label), with the label's
/// display name or one of its synonyms (picked the same way) filled in, lower-cased. Its target
/// is the union of the finding's consensus regions when it has any (a curator made them to settle
/// the readers), else of all its regions; it is groundable.
///
/// Crowd regions (COCO's `iscrowd` = 1: one outline around a group of instances) follow COCO's
/// convention that a crowd is not an instance to find: a finding whose regions are all crowd
/// regions gets no question (its target would be a group's outline, not an object; counted in
/// `crowdOnly`), and its label is still present on the image, so never asked as a negative. A
/// finding with instances and a crowd region keeps the crowd in its target's union, so that
/// attention on the crowd's members is not scored as a miss. Negatives: for each image, up to N labels
/// allowed for its modality that have no region on it, picked by the same seeded hash, answer
/// "no", not groundable (only for closed templates). Deterministic for a seed; re-running adds
/// nothing (questions are unique by image, text, answer and template).
public enum QuestionGenerator {
    public static func run(
        template: TemplateFile, negatives: Int, seed: UInt64, project: Project, arguments: [String]
    ) throws -> GenerationReport {
        var report = GenerationReport(template: template.id, seed: seed, positives: 0, negatives: 0, existing: 0, batchId: nil)
        let now = Provenance.timestamp(Date())
        try project.database.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                var batch = ImportBatch.starting(
                    kind: "generated", format: "template", arguments: arguments, inputs: [template.id])
                try batch.insert(db)
                let questions = try VQAItemRecord.Inserter(db)
                let labels = try LabelRecord.fetchAll(db)
                let byId = Dictionary(uniqueKeysWithValues: labels.map { ($0.id!, $0) })
                let labelIndex = try LabelIndex(db)
                let pairs = try RegionRecord.findings(db)
                var present: [Int64: Set<Int64>] = [:]
                var imageInfo: [Int64: (sha: String, modality: String?)] = [:]
                for row in pairs {
                    let imageId: Int64 = row["image_id"], labelId: Int64 = row["label_id"]
                    present[imageId, default: []].insert(labelId)
                    imageInfo[imageId] = (row["sha256"], row["modality"])
                    if row["crowd_only"] as Bool {
                        report.crowdOnly += 1
                        continue
                    }
                    guard let label = byId[labelId] else { continue }
                    let regionIds = (row["regions"] as String).split(separator: ",").compactMap { Int64($0) }.sorted()
                    let sha: String = row["sha256"]
                    let phrasing = template.phrasings[pick(seed, sha, label.name, "phrasing", count: template.phrasings.count)]
                    let names =
                        [label.displayName] + ((try? JSONDecoder().decode([String].self, from: Data(label.synonyms.utf8))) ?? [])
                    let name = names[pick(seed, sha, label.name, "name", count: names.count)].lowercased()
                    let question = phrasing.text.replacingOccurrences(of: "{label}", with: name)
                    let answer = template.answerType == .closed ? "yes" : ""
                    if try insert(
                        questions, imageId: imageId, question: question, answer: answer, template: template, phrasing: phrasing,
                        labelId: labelId, groundable: true, batch: batch.id!, createdAt: now, regions: regionIds)
                    {
                        report.positives += 1
                    } else {
                        report.existing += 1
                    }
                }
                if negatives > 0 && template.answerType == .closed, let allowed = template.negatives {
                    for imageId in imageInfo.keys.sorted() {
                        let info = imageInfo[imageId]!
                        let pool = (allowed[info.modality ?? ""] ?? allowed["*"] ?? [])
                            .compactMap { labelIndex.id(for: $0) }
                            .filter { !(present[imageId]?.contains($0) ?? false) }
                        let unique = Array(Set(pool)).sorted()
                        let chosen = unique.sorted {
                            pick(seed, info.sha, String($0), "negative", count: Int.max)
                                < pick(seed, info.sha, String($1), "negative", count: Int.max)
                        }.prefix(negatives)
                        for labelId in chosen {
                            guard let label = byId[labelId] else { continue }
                            let phrasing = template.phrasings[
                                pick(seed, info.sha, label.name, "phrasing-negative", count: template.phrasings.count)]
                            let question = phrasing.text.replacingOccurrences(of: "{label}", with: label.displayName.lowercased())
                            if try insert(
                                questions, imageId: imageId, question: question, answer: "no", template: template,
                                phrasing: phrasing,
                                labelId: labelId, groundable: false, batch: batch.id!, createdAt: now, regions: [])
                            {
                                report.negatives += 1
                            } else {
                                report.existing += 1
                            }
                        }
                    }
                }
                batch.imported = report.positives + report.negatives
                batch.duplicates = report.existing
                try batch.update(db)
                report.batchId = batch.id
                return .commit
            }
        }
        return report
    }

    private static func insert(
        _ questions: VQAItemRecord.Inserter, imageId: Int64, question: String, answer: String, template: TemplateFile,
        phrasing: TemplateFile.Phrasing, labelId: Int64, groundable: Bool, batch: Int64, createdAt: String, regions: [Int64]
    ) throws -> Bool {
        let templateId = "\(template.id)/\(phrasing.id)"
        let item = VQAItemRecord(
            imageId: imageId, question: question, answer: answer, answerType: template.answerType,
            questionType: template.questionType, targetLabelId: labelId, groundable: groundable, templateId: templateId,
            batchId: batch, identityKey: IdentityKey.question(question, answer: answer, template: templateId),
            createdAt: createdAt)
        return try questions.insert(item, targets: regions) != nil
    }

    /// A deterministic choice in 0..<count from the seed and some strings (SHA-256 based, the same on every machine).
    static func pick(_ seed: UInt64, _ parts: String..., count: Int) -> Int {
        let digest = SHA256.hash(data: Data(([String(seed)] + parts).joined(separator: "\u{1F}").utf8))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return count == Int.max ? Int(value >> 1) : Int(value % UInt64(count))
    }
}
