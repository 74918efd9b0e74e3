import ArgumentParser
import Foundation
import GroundworkAnnotations
import GroundworkCore
import GroundworkStore

/// `groundwork images …`
struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "List the project's images; clear or confirm burned-in-identifier flags.",
        subcommands: [ImagesListCommand.self, ImagesFlagCommand.self],
        defaultSubcommand: ImagesListCommand.self)
}

/// `groundwork images list`
struct ImagesListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List images, oldest first, optionally filtered.")

    @Option(help: "Only images of this modality.")
    var modality: String?

    @Option(help: "Only images from this source.")
    var source: String?

    @Option(help: "Only images of this patient.")
    var patient: String?

    @Option(help: "At most this many images.")
    var limit: Int?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let filter = ImageRecord.Filter(modality: modality, source: source, patientId: patient, limit: limit)
        let encoder = CanonicalJSONLines()
        var first = true
        try project.forEachImage(matching: filter) { image in
            if output.json {
                print(first ? "[\n" : ",\n", terminator: "")
                print(try encoder.line(image), terminator: "")
            } else {
                let size = "\(image.width)x\(image.height)"
                let fields = [
                    String(image.id ?? 0), String(image.sha256.prefix(12)), image.format, size,
                    "\(image.bitDepth)-bit \(image.photometric)", image.modality ?? "-", image.patientId ?? "-",
                    image.originalPath,
                ]
                print(fields.joined(separator: "\t"))
            }
            first = false
        }
        if output.json { print(first ? "[]" : "\n]") }
    }
}

extension BurnedInDecision: ExpressibleByArgument {}

/// `groundwork images flag clear|confirm ID…`
struct ImagesFlagCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "flag",
        abstract: "Clear or confirm the burned-in-identifier flag of images, after looking at them.",
        discussion: Help.reflow(
            """
            DICOM imports flag images whose pixels may show names or IDs (BurnedInAnnotation YES,
            ultrasound, secondary captures); releases refuse flagged images. Look at the pixels first
            (groundwork serve shows them at full resolution, with window presets), then:

              clear    no identifier in the pixels: the flag becomes 'cleared' and releases take the image
              confirm  the pixels carry identifiers: the image stays flagged (or is flagged now), confirmed

            The reviewer's name and the time are recorded with the flag. All or nothing: an unknown id,
            or clearing an image that was never flagged, changes nothing.
            """))

    @Argument(help: "clear or confirm.")
    var decision: BurnedInDecision

    @Argument(help: "Image ids.")
    var ids: [Int64]

    @Option(help: ArgumentHelp("The reviewer's name, recorded with the time (default: your user name).", valueName: "name"))
    var reviewer: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let name = try Review.reviewerName(reviewer)
        let project = try projectOptions.openForWriting()
        let outcomes = try BurnedInReview.apply(decision, imageIds: ids, project: project, reviewer: name)
        try Output.report(outcomes, json: output.json) {
            for outcome in outcomes {
                print("image \(outcome.id): \(outcome.previous ?? "not flagged") -> \(outcome.flag) (by \(outcome.reviewedBy))")
            }
        }
    }
}

/// One compact JSON object per call, with sorted snake_case keys.
struct CanonicalJSONLines {
    private let encoder = CanonicalJSON.encoder(pretty: false)
    func line<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
}
