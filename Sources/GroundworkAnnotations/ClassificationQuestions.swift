import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// What `groundwork vqa classify` did.
public struct ClassificationReport: Codable, Sendable {
    /// The class set offered as options, in option order.
    public var classes: [String]
    public var made: Int
    public var existing: Int
    /// Images with more than one class label (a multiple-choice question needs exactly one answer).
    public var skippedMultiLabel: Int
    public var batchId: Int64?
}

/// Turns image-level classification labels into multiple-choice classification questions (the
/// "Lost in the Hype" setting: BUSI, COVID-CT, chest X-ray).
///
/// Conventions: the class set is every label used as an image label (optionally only those under
/// a parent), in name order; options are the classes' display names in that order (so option
/// letters mean the same class on every item); the correct option is the image's label. Images
/// with several class labels are skipped and counted. Items are not groundable (the answer is about
/// the whole image). Re-running adds nothing.
public enum ClassificationQuestions {
    public static func run(question: String, parent: String? = nil, project: Project, arguments: [String]) throws
        -> ClassificationReport
    {
        var report = ClassificationReport(classes: [], made: 0, existing: 0, skippedMultiLabel: 0, batchId: nil)
        try project.database.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let (parentFilter, parentArguments) = try LabelIndex.condition(db, name: parent, column: "l.parent_id")
                let classes = try ImageLabelRecord.classes(db, parentCondition: parentFilter, arguments: parentArguments)
                guard classes.count >= 2 else {
                    throw DiagnosticsError(
                        summary: "a multiple-choice question needs at least two classes; found \(classes.count)", diagnostics: [])
                }
                let ids: [Int64] = classes.map { $0["id"] }
                let options: [String] = classes.map { $0["display_name"] }
                report.classes = options
                let optionsJSON = try CanonicalJSON.string(options, pretty: false)
                var batch = ImportBatch.starting(
                    kind: "generated", format: "classification", arguments: arguments, inputs: [question])
                try batch.insert(db)
                let rows = try ImageLabelRecord.imagesLabelled(db, among: ids)
                let questions = try VQAItemRecord.Inserter(db)
                for row in rows {
                    let labels = (row["labels"] as String).split(separator: ",").compactMap { Int64($0) }
                    guard labels.count == 1, let index = ids.firstIndex(of: labels[0]) else {
                        report.skippedMultiLabel += 1
                        continue
                    }
                    let item = VQAItemRecord(
                        imageId: row["image_id"], question: question, answer: options[index], answerType: .choice,
                        options: optionsJSON, correctOption: index, questionType: .classification, targetLabelId: ids[index],
                        groundable: false, templateId: "classification", batchId: batch.id!,
                        identityKey: IdentityKey.question(question, answer: options[index], template: "classification"),
                        createdAt: batch.startedAt)
                    if try questions.insert(item) != nil { report.made += 1 } else { report.existing += 1 }
                }
                batch.imported = report.made
                batch.duplicates = report.existing
                try batch.update(db)
                report.batchId = batch.id
                return .commit
            }
        }
        return report
    }
}
