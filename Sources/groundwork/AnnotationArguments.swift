import ArgumentParser
import GroundworkAnnotations
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

extension AnnotationFormat: ExpressibleByArgument {}
extension BoxConvention: ExpressibleByArgument {}
extension QuestionType: ExpressibleByArgument {}
extension ConsensusMethod: ExpressibleByArgument {}
extension ReviewStatus: ExpressibleByArgument {}

/// The options shared by `import regions` and `import vqa`.
struct AnnotationImportArguments: ParsableArguments {
    @Argument(help: "The annotation file (or folder, for SLAKE, YOLO and Pascal VOC folders and dataset roots).")
    var file: String

    @Option(help: "The format (detected from the name and content where that is unambiguous).")
    var format: AnnotationFormat?

    @Option(help: "The annotator for entries that name none (created if new).")
    var annotator: String?

    @Option(help: "The new annotator's role (radiologist, resident, pathologist, …).")
    var annotatorRole: String?

    @Option(help: ArgumentHelp("Resolve relative image paths against this folder.", valueName: "dir"))
    var imagesRoot: String?

    @Option(help: "The box convention where the format leaves it open (VGMED, CSV): xyxy, coco_xywh, voc, yolo, label_studio.")
    var boxFormat: BoxConvention?

    @Option(help: "The question type for VGMED rows that give none: localization, attribute, classification, other.")
    var questionType: QuestionType?

    @Option(
        help: ArgumentHelp("The label of DICOM overlay regions (--format dicom-overlay; default: overlay).", valueName: "label"))
    var overlayLabel: String?

    @Option(
        help: ArgumentHelp(
            "YOLO class names: a data.yaml (names: list or map) or a .names/classes.txt list, one name a line "
                + "(default: classes.txt, obj.names or data.yaml beside the labels).", valueName: "file"))
    var classes: String?

    @Option(help: ArgumentHelp("CSV columns as image,label,BOX1,BOX2,BOX3,BOX4[,annotator].", valueName: "columns"))
    var csvColumns: String?

    @Flag(help: "Clip regions that stick out of their image (recorded on the region) instead of refusing the file.")
    var clip = false

    @Flag(help: "Add labels the taxonomy does not know instead of refusing the file.")
    var addLabels = false

    @Flag(help: "Leave out (and report) entries whose image is not in the project instead of refusing the file.")
    var skipMissing = false

    func validate() throws {
        if let csvColumns {
            let parts = csvColumns.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 6 || parts.count == 7 else {
                throw ValidationError("--csv-columns needs image,label and four box columns, optionally an annotator column")
            }
        }
    }

    func options() throws -> AnnotationImportOptions {
        var options = AnnotationImportOptions(file: file)
        options.format = format
        options.annotator = annotator
        options.annotatorRole = annotatorRole
        options.imagesRoot = imagesRoot
        options.clip = clip
        options.addLabels = addLabels
        options.skipMissing = skipMissing
        options.arguments = CommandLine.arguments
        options.reader.boxFormat = boxFormat
        options.reader.questionType = questionType
        options.reader.overlayLabel = overlayLabel
        // Read by the YOLO reader, which tells a data.yaml from a list and reports problems.
        options.reader.classesFile = classes
        if let csvColumns {
            let parts = csvColumns.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            options.reader.csvColumns = CSVColumns(
                image: parts[0], label: parts[1], annotator: parts.count == 7 ? parts[6] : nil, box: Array(parts[2..<6]))
        }
        return options
    }
}

/// Runs an annotation import and prints its report; shared by `import regions` and `import vqa`.
enum AnnotationImportRunner {
    static func run(_ arguments: AnnotationImportArguments, project: ProjectOptions, json: Bool) throws {
        let opened = try project.openForWriting()
        let report = try AnnotationImporter.run(try arguments.options(), into: opened)
        if json {
            try Output.json(report)
        } else {
            Output.diagnostics(report.diagnostics)
            if report.committed {
                var line =
                    "Imported \(report.regionsAdded) region(s), \(report.vqaItemsAdded) question(s), \(report.imageLabelsAdded) image label(s) from \(report.file) (\(report.format))"
                if report.duplicates > 0 { line += "; \(report.duplicates) already present" }
                if report.skippedMissing > 0 { line += "; \(report.skippedMissing) left out (image not in the project)" }
                if !report.labelsAdded.isEmpty { line += "; \(report.labelsAdded.count) label(s) added" }
                if let batch = report.batchId { line += " [import batch \(batch)]" }
                print(line)
            } else {
                Output.error("\(report.errors) error(s) in \(report.file): nothing was imported")
            }
        }
        if !report.committed { throw ExitCode(ExitCodes.problems) }
    }
}
