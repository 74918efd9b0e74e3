import ArgumentParser
import GroundworkCore
import GroundworkReleases
import GroundworkStore

extension ExportFormat: ExpressibleByArgument {}
extension ImageMode: ExpressibleByArgument {}
extension PixelMode: ExpressibleByArgument {}

/// `groundwork export`
struct ExportCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a release in the form an evaluation harness reads, with a manifest of every file's SHA-256.",
        discussion: Help.reflow(
            """
            Formats: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")). Every export holds
            manifest.json: the release (version, creation time, content hash, parameters), the tool and schema
            versions, counts per split, licence per source, the leakage report, and the SHA-256 and size of
            every file, with a root hash over them. Exporting the same release twice gives byte-identical files.

            Writing is atomic: the export is written into a hidden folder next to --out and renamed at the end,
            so a failure or a kill leaves no half export (a leftover of a killed export beside --out is
            removed by the next export there, and reported by groundwork check). --out must lie outside
            every project and outside other exports and results folders. A non-empty --out is refused;
            --force replaces it only if it is an export Groundwork wrote and holds nothing else.

            No export carries the images' original paths (a curator's folders often name patients) nor
            patient or study IDs: rows name images by SHA-256. --keep-paths adds original_path (recorded in
            the manifest; refused when the release has restricted sources).
            Images of restricted sources are exported by reference only (SHA-256, no pixels).

            Pixels: harnesses decode each image and re-encode it (Pillow's convert("RGB")), which ignores a
            JPEG's EXIF orientation and clips 16-bit samples. With --pixels model (the default of hf, coco,
            vlmevalkit and vgmed) the files are the images as displayed and 8-bit: orientation applied,
            16-bit mapped through the DICOM window (a DICOM rendering) or the 0.5-99.5 percentile window,
            written as PNG and recorded per image in the manifest (pixel_transforms); 8-bit upright images
            are written as stored. --pixels original writes the stored files (jsonl's default: lossless).

            hf: a Hugging Face datasets folder (README.md dataset card, data/<split>/metadata.parquet and images);
            datasets.load_dataset(DIR) loads it. coco: annotations/instances_<split>.json (questions under "vqa")
            and images/. vlmevalkit: Groundwork_<version>_MCQ.tsv (choice questions, letter answers),
            _YN.tsv (Yes/No answers) and _VQA.tsv (open), images as base64, each with its .md5, and
            Groundwork_<version>_vlmevalkit.json (run.py --data-config). vgmed: <split>/VGMED_<question
            type>.jsonl with [x0, y0, x1, y1] boxes and the study's target tokens, rows without a box in
            <split>/without_box/. jsonl: Groundwork's lossless JSONL. hf and vlmevalkit hold pixels: with
            --images none they name images by path and SHA-256 instead, and a release with restricted sources
            is refused unless --images none.

            Exit codes: 0 written; 1 an unknown release, an --out that is refused, a release the format
            cannot hold, or a missing or altered object in the project (nothing written); 2 project or output
            I/O error.
            """))

    @Argument(help: "The release's version.")
    var version: String

    @Option(help: "The format: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ExportFormat

    @Option(help: "The folder to write (created; must be empty unless --force).")
    var out: String

    @Option(help: "Image files: copy, link (hard links into the project's objects) or none.")
    var images: ImageMode = .copy

    @Flag(help: "Replace --out if it is an export Groundwork wrote (and holds nothing else).")
    var force = false

    @Option(
        help: ArgumentHelp(
            "What image files hold: model (upright, 8-bit: what the boxes describe; the default but for jsonl) or original (the stored files; jsonl's default).",
            valueName: "pixels"))
    var pixels: PixelMode?

    @Flag(help: "Add each image's original path to the rows (off by default: paths can identify patients).")
    var keepPaths = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let report = try Output.attempt(json: output.json) {
            do {
                return try Exporter.export(
                    project, version: version, format: format, out: out, images: images, force: force,
                    keepPaths: keepPaths, pixels: pixels, showProgress: !output.json)
            } catch let error as ExportError {
                // The target or the project's objects are not as they must be: a problem to fix, exit 1.
                throw DiagnosticsError(
                    summary: error.description,
                    diagnostics: [Diagnostic(.error, file: out, code: "export", message: error.description)])
            }
        }
        try Output.report(report, json: output.json) {
            for leftover in report.removedLeftovers {
                Output.note("Removed \(leftover): the leftover of an interrupted export")
            }
            print(
                "Exported release \(report.version) as \(report.format.rawValue) to \(report.out): \(report.files) file(s), \(Output.bytes(report.bytes)), \(report.imagesWritten) image(s)\(report.imagesRendered > 0 ? " (\(report.imagesRendered) rendered upright and 8-bit)" : "")\(report.imagesByReference > 0 ? ", \(report.imagesByReference) by reference (restricted)" : "")"
            )
            print("  root hash \(report.rootHash)")
        }
    }
}

/// `groundwork verify`
struct VerifyCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash an export against its manifest: name every missing, extra or changed file.",
        discussion: "Exit codes: 0 the folder is exactly what its manifest lists; 1 it is not (or has no valid manifest).")

    @Argument(help: "The export folder.")
    var folder: String

    @OptionGroup var output: JSONOption

    func execute() throws {
        let report = try Output.attempt(json: output.json) { try Verify.run(folder, showProgress: !output.json) }
        try Output.report(report, json: output.json) {
            Output.diagnostics(report.findings)
            print(
                "\(report.ok ? "OK" : "FAILED"): \(report.folder) (release \(report.version ?? "?"), \(report.format ?? "?")): \(report.filesChecked) file(s), \(Output.bytes(report.bytesChecked)) checked; \(report.missing.count) missing, \(report.extra.count) extra, \(report.changed.count) changed"
            )
        }
        if !report.ok { throw ExitCode(ExitCodes.problems) }
    }
}

/// `groundwork sources …`
struct SourcesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources",
        abstract: "List sources and set their release policy: licence, restricted (exported by reference only).",
        subcommands: [SourcesListCommand.self, SourcesSetCommand.self],
        defaultSubcommand: SourcesListCommand.self)
}

/// `groundwork sources list`
struct SourcesListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List sources with their policy.")

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let sources = try SourcePolicy.list(project)
        try Output.report(sources, json: output.json) {
            for source in sources {
                print(
                    "\(source.name)\t\(source.images) image(s)\tlicence \(source.license ?? "(per image)")\(source.restricted ? "\trestricted" : "")"
                )
            }
        }
    }
}

/// `groundwork sources set`
struct SourcesSetCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a source's licence, citation, and whether it is restricted.",
        discussion: Help.reflow(
            """
            A restricted source (e.g. MIMIC-CXR-derived data, whose licence forbids redistribution) is exported
            by reference only: paths and SHA-256, never pixels. The source licence covers the source's images
            that carry no licence of their own.
            """))

    @Argument(help: "The source's name, as given on import (--source).")
    var name: String

    @Option(help: "An SPDX licence identifier or expression.")
    var license: String?

    @Option(help: "How to cite the source.")
    var citation: String?

    @Flag(inversion: .prefixedNo, help: "Export by reference only (no pixels).")
    var restricted: Bool?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let policy = try SourcePolicy.set(project, name: name, license: license, restricted: restricted, citation: citation)
        try Output.report(policy, json: output.json) {
            print(
                "\(policy.name): licence \(policy.license ?? "(per image)"), \(policy.restricted ? "restricted (by reference)" : "not restricted"), \(policy.images) image(s)"
            )
        }
    }
}
