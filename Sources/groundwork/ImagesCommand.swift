import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkStore

/// `groundwork images …`
struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "List the project's images.",
        subcommands: [ImagesListCommand.self],
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

/// One compact JSON object per call, with sorted snake_case keys.
struct CanonicalJSONLines {
    private let encoder = CanonicalJSON.encoder(pretty: false)
    func line<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
}
