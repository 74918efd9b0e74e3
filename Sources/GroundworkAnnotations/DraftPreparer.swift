import Foundation
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// A label as the preparer resolved it.
enum PreparedLabel: Sendable, Equatable {
    /// A label of the taxonomy (as it was when the import started).
    case id(Int64)
    /// A name the taxonomy does not know, to be added by the writer (`--add-labels`).
    case new(String)
}

/// A region checked against its image and ready to insert.
struct PreparedRegion: Sendable {
    var imageId: Int64
    var label: PreparedLabel
    var kind: RegionKind
    /// The geometry's canonical JSON, and its identity key.
    var geometry: String
    var geometryKey: Int64
    /// The tight bounding box of the (possibly clipped) geometry.
    var box: Box
    var area: Double
    var clipped: Bool
    var annotator: String?
    var externalId: String?
    var location: SourceLocation
    var key: String?
    var file: String?
    var status: ReviewStatus = .draft
    var iscrowd: Bool
}

/// A VQA item checked and ready to insert, with its inline target regions.
struct PreparedVQA: Sendable {
    var imageId: Int64
    var question: String
    var answer: String
    var answerType: AnswerType
    /// The options as canonical JSON.
    var options: String?
    var correctOption: Int?
    var questionType: QuestionType
    var targetLabel: PreparedLabel?
    var targets: [PreparedRegion]
    /// Regions defined earlier in the file (known to be on the item's image).
    var targetKeys: [String]
    var groundable: Bool
    var language: String
    var templateId: String?
    var annotator: String?
    var externalId: String?
    /// The attributes as canonical JSON.
    var attributes: String
    var identityKey: Int64
    var location: SourceLocation
    var file: String?
}

/// An image-level label matched to its image.
struct PreparedImageLabel: Sendable {
    var imageId: Int64
    var label: PreparedLabel
    var annotator: String?
    var location: SourceLocation
    var file: String?
}

/// What the writer inserts.
enum PreparedDraft: Sendable {
    case region(PreparedRegion)
    case vqa(PreparedVQA)
    case imageLabel(PreparedImageLabel)
}

/// Checks each draft the reader emits and turns it into rows, on the reader's thread: images
/// matched, labels resolved, geometry validated against the image, answers and options checked,
/// canonical JSON and identity keys computed. Everything that needs no database happens here;
/// the writer only resolves annotators, adds new labels and inserts.
///
/// Every problem is reported into the context it is given (the reader's, so that findings keep
/// the file's order). A draft with an error is left out (nil); the import then writes nothing.
/// Use one preparer from one thread at a time; read ``skippedMissing`` once the reader is done.
final class DraftPreparer: @unchecked Sendable {
    let images: ImageIndex
    let labels: LabelIndex
    let clip: Bool
    let addLabels: Bool
    let skipMissing: Bool
    private let annotationFile: String
    private let imagesRoot: String?
    /// Labels already resolved, by the name as the file gives it.
    private var labelCache: [String: PreparedLabel] = [:]
    /// The last label refused, and where: a row's item and its target regions name the same
    /// label, which is reported once.
    private var lastRefused: (name: String, location: SourceLocation)?
    /// The image of each keyed region prepared so far.
    private var keyedImages: [String: Int64] = [:]
    /// Where each keyed region was first defined, and the keys defined more than once (a
    /// question naming one would link to whichever came last).
    private var keyedPlaces: [String: SourceLocation] = [:]
    private var repeatedKeys: [String: (first: SourceLocation, again: SourceLocation)] = [:]
    /// Entries left out with `--skip-missing`.
    private(set) var skippedMissing = 0

    init(labels: LabelIndex, options: AnnotationImportOptions, context: ReaderContext) {
        self.images = context.images
        self.labels = labels
        self.clip = options.clip
        self.addLabels = options.addLabels
        self.skipMissing = options.skipMissing
        self.annotationFile = context.file
        self.imagesRoot = context.imagesRoot
    }

    /// The rows of one draft, or nil when it was refused (or left out with `--skip-missing`).
    func prepare(_ draft: AnnotationDraft, reporting context: ReaderContext) -> PreparedDraft? {
        switch draft {
        case .region(let region):
            let report = Reporter(context: context, file: region.file)
            guard let entry = image(for: region.image, at: region.location, report) else { return nil }
            return prepareRegion(region, on: entry, report).map(PreparedDraft.region)
        case .vqa(let item):
            return prepareVQA(item, Reporter(context: context, file: item.file)).map(PreparedDraft.vqa)
        case .imageLabel(let label):
            let report = Reporter(context: context, file: label.file)
            guard let entry = image(for: label.image, at: label.location, report),
                let labelId = self.label(label.label, at: label.location, report)
            else { return nil }
            return .imageLabel(
                PreparedImageLabel(
                    imageId: entry.id, label: labelId, annotator: label.annotator, location: label.location, file: label.file))
        }
    }

    /// Reports problems of one draft, naming the file it came from.
    struct Reporter {
        let context: ReaderContext
        let file: String?

        func callAsFunction(_ severity: Severity, _ location: SourceLocation, code: String, _ message: String) {
            context.report(severity, location, code: code, message, file: file)
        }
    }

    // MARK: Images and labels

    private func image(for reference: ImageReference, at location: SourceLocation, _ report: Reporter) -> ImageIndex.Entry? {
        switch images.resolve(reference, annotationFile: annotationFile, imagesRoot: imagesRoot) {
        case .found(let entry):
            if let w = reference.declaredWidth, let h = reference.declaredHeight, w != entry.width || h != entry.height {
                report(
                    .error, location, code: "size_mismatch",
                    "the annotation says image \(reference) is \(w)×\(h), the project's image \(entry.id) is \(entry.width)×\(entry.height) as displayed"
                )
                return nil
            }
            return entry
        case .missing:
            if skipMissing {
                skippedMissing += 1
                report(
                    .warning, location, code: "unknown_image",
                    "image \(reference) is not in the project: left out (--skip-missing)")
            } else {
                report(
                    .error, location, code: "unknown_image",
                    "image \(reference) is not in the project (import it first, or pass --skip-missing)")
            }
            return nil
        case .ambiguous(let paths):
            report(
                .error, location, code: "ambiguous_image",
                "image \(reference) matches \(paths.count) images (\(paths.prefix(3).joined(separator: ", "))); give a path or --images-root"
            )
            return nil
        }
    }

    private func label(_ name: String, at location: SourceLocation, _ report: Reporter) -> PreparedLabel? {
        if let known = labelCache[name] { return known }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            report(.error, location, code: "empty_label", "the label is empty")
            return nil
        }
        let resolved: PreparedLabel
        if let id = labels.id(for: trimmed) {
            resolved = .id(id)
        } else if addLabels {
            resolved = .new(trimmed)
        } else {
            if lastRefused?.name != name || lastRefused?.location != location {
                report(
                    .error, location, code: "unknown_label",
                    "label '\(trimmed)' is not in the taxonomy (add it with 'groundwork labels add', or pass --add-labels)")
                lastRefused = (name, location)
            }
            return nil
        }
        labelCache[name] = resolved
        return resolved
    }

    // MARK: Regions

    private func prepareRegion(_ draft: RegionDraft, on entry: ImageIndex.Entry, _ report: Reporter) -> PreparedRegion? {
        guard let label = label(draft.label, at: draft.location, report) else { return nil }
        let check = GeometryCheck.check(draft.geometry, width: entry.width, height: entry.height, clip: clip)
        for finding in check.diagnostics { report(finding.severity, draft.location, code: finding.code, finding.message) }
        guard let (geometry, clipped) = check.result, let box = geometry.tightBox else { return nil }
        let json = GeometryCheck.canonicalJSON(geometry)
        if let key = draft.key {
            if let first = keyedPlaces[key] {
                if repeatedKeys[key] == nil { repeatedKeys[key] = (first, draft.location) }
            } else {
                keyedPlaces[key] = draft.location
            }
            keyedImages[key] = entry.id
        }
        return PreparedRegion(
            imageId: entry.id, label: label, kind: RegionKind(geometry), geometry: json, geometryKey: IdentityKey.of(json),
            box: box,
            area: geometry.area, clipped: clipped, annotator: draft.annotator, externalId: draft.externalId,
            location: draft.location, key: draft.key, file: draft.file, status: draft.status, iscrowd: draft.iscrowd)
    }

    // MARK: VQA items

    private func prepareVQA(_ draft: VQADraft, _ report: Reporter) -> PreparedVQA? {
        guard let entry = image(for: draft.image, at: draft.location, report) else { return nil }
        var failed = false
        var targetLabel: PreparedLabel?
        if let name = draft.targetLabel {
            targetLabel = label(name, at: draft.location, report)
            if targetLabel == nil { failed = true }
        }
        var answer = trimmedWhitespace(draft.answer)
        var correct = draft.correctOption
        switch draft.answerType {
        case .closed:
            let normal = answer == "yes" || answer == "no" ? answer : answer.lowercased()
            if normal == "yes" || normal == "no" {
                answer = normal
            } else {
                report(
                    .error, draft.location, code: "bad_answer", "a closed question's answer must be yes or no, found '\(answer)'")
                failed = true
            }
        case .choice:
            let options = draft.options ?? []
            if options.count < 2 {
                report(.error, draft.location, code: "bad_options", "a multiple-choice question needs at least two options")
                failed = true
            } else if let index = correct {
                if !options.indices.contains(index) {
                    report(
                        .error, draft.location, code: "bad_options",
                        "the correct option \(index) is not one of the \(options.count) options")
                    failed = true
                } else if !answer.isEmpty && answer != options[index] {
                    report(
                        .error, draft.location, code: "answer_not_in_options",
                        "the answer '\(answer)' is not the correct option '\(options[index])'")
                    failed = true
                }
                if !failed { answer = options[index] }
            } else if let index = options.firstIndex(of: answer) {
                correct = index
            } else {
                report(
                    .error, draft.location, code: "answer_not_in_options",
                    "the answer '\(answer)' is not among the options \(options)")
                failed = true
            }
        case .open:
            break
        }
        var targets: [PreparedRegion] = []
        for target in draft.targets {
            var target = target
            if target.annotator == nil { target.annotator = draft.annotator }
            if let prepared = prepareRegion(target, on: entry, report) { targets.append(prepared) } else { failed = true }
        }
        var keys: [String] = []
        for key in draft.targetKeys {
            if let repeated = repeatedKeys[key] {
                report(
                    .error, draft.location, code: "ambiguous_target",
                    "target region '\(key)' is defined twice in this file (\(repeated.first) and \(repeated.again))")
                failed = true
                continue
            }
            guard let imageId = keyedImages[key] else {
                report(.error, draft.location, code: "unknown_region", "target region '\(key)' is not defined in this file")
                failed = true
                continue
            }
            if imageId != entry.id {
                report(.error, draft.location, code: "target_on_other_image", "target region '\(key)' is on another image")
                failed = true
                continue
            }
            keys.append(key)
        }
        let hasRegion = !targets.isEmpty || !keys.isEmpty
        let negative = draft.answerType == .closed && answer == "no"
        let groundable: Bool
        if let explicit = draft.groundable {
            groundable = explicit
            if explicit && !hasRegion && !failed {
                report(
                    .error, draft.location, code: "groundable_without_region",
                    "the item is marked groundable but has no target region")
                failed = true
            }
            if explicit && negative {
                report(.error, draft.location, code: "groundable_negative", "an item whose answer is 'no' cannot be groundable")
                failed = true
            }
        } else {
            groundable = !negative && hasRegion
        }
        if failed { return nil }
        return PreparedVQA(
            imageId: entry.id, question: draft.question, answer: answer, answerType: draft.answerType,
            options: draft.options.map(GeometryCheck.canonicalJSON), correctOption: correct, questionType: draft.questionType,
            targetLabel: targetLabel, targets: targets, targetKeys: keys, groundable: groundable, language: draft.language,
            templateId: draft.templateId, annotator: draft.annotator, externalId: draft.externalId,
            attributes: GeometryCheck.canonicalJSON(draft.attributes),
            identityKey: IdentityKey.question(draft.question, answer: answer, template: draft.templateId),
            location: draft.location, file: draft.file)
    }
}

/// `text.trimmingCharacters(in: .whitespacesAndNewlines)`, without Foundation's cost when the text
/// starts and ends with a printable ASCII character (nothing to trim: the common case).
func trimmedWhitespace(_ text: String) -> String {
    let utf8 = text.utf8
    if let first = utf8.first, let last = utf8.last, (0x21..<0x7F).contains(first), (0x21..<0x7F).contains(last) {
        return text
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
