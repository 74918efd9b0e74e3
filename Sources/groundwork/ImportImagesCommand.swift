import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkImaging
import GroundworkStore

/// `groundwork import images PATH...`
struct ImportImagesCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Import PNG, JPEG and DICOM images into the project's store.",
        discussion: Help.reflow(
            """
            The format is detected from the content, not the name. Every file is decoded in full to prove
            it is sound; PNG keeps its bit depth (16-bit stays 16-bit) and no gamma is applied. EXIF
            orientation is recorded, and width and height are those of the image as displayed.
            CMYK JPEGs are rejected (convert them to RGB first).

            DICOM Part 10 files (recognised by "DICM" after the preamble, whatever their name) are decoded
            through DCMTK (native, deflated, RLE, JPEG, JPEG-LS) or OpenJPEG (JPEG 2000) and rendered to PNG:
            stored values, modality LUT (rescale to Hounsfield units for CT), VOI (the file's first window,
            --window-index, or --window), MONOCHROME1 inverted, colour to RGB; 8-bit, or 16-bit with
            --render-bits 16. Every frame becomes an image (or --frame N). The DICOM file stays in objects/
            beside the PNG; the image row records both SHA-256s, the render parameters and every DICOM
            attribute (attributes.dicom, never released). Ultrasound, secondary capture and
            BurnedInAnnotation=YES images are flagged for review (releases refuse them until cleared).
            --deidentify applies the DICOM PS3.15 Basic Application Level Confidentiality Profile first.

            Files are copied into objects/ under their SHA-256 (or hard-linked with --link). Bytes that the
            project already holds are not added again, and the report says so.

            By default the import is all or nothing: if any file is unreadable, corrupt, truncated or not a
            supported image, every such file is listed and nothing is imported (exit 1). With --skip-invalid
            the good files are imported and the rejected ones are recorded in the import batch (exit 0).

            The metadata CSV has one row per file, named by a 'path' column (absolute or relative to the
            CSV) or a 'file_name' column; 'patient_id', 'study_id', 'modality' and 'body_part' fill the
            image's fields (overriding --modality), other columns are kept as attributes. A row for a file
            that is not being imported, a missing column or a malformed row is an error naming its line.

            An interrupted import (even a killed one) leaves the database as it was; run the same command
            again to finish the job.
            """))

    @Argument(help: "Image files, or folders of them.")
    var paths: [String]

    @Option(help: "The modality of these images (CT, MR, CR, DX, US, …), unless the metadata CSV gives one.")
    var modality: String?

    @Option(help: "Where the images come from (a dataset or site name).")
    var source: String?

    @Option(name: .customLong("license"), help: ArgumentHelp("The images' licence as an SPDX identifier.", valueName: "spdx"))
    var license: String?

    @Option(help: ArgumentHelp("A CSV of per-file metadata.", valueName: "file.csv"))
    var metadata: String?

    @Flag(help: "Descend into subfolders.")
    var recursive = false

    @Flag(help: "Hard-link files into objects/ instead of copying them (falls back to a copy across file systems).")
    var link = false

    @Flag(help: "Import the good files and record the rejected ones, instead of importing nothing.")
    var skipInvalid = false

    @Option(help: "Reject images with more pixels than this (a decompression-bomb guard).")
    var maxPixels: Int = ImageDecoder.defaultMaxPixels

    @OptionGroup var dicom: DICOMRenderArguments

    @Option(help: ArgumentHelp("Import only this 1-based frame of multi-frame DICOM files.", valueName: "n"))
    var frame: Int?

    @Flag(help: "De-identify DICOM files (PS3.15 Annex E Basic Profile) before anything of them is stored.")
    var deidentify = false

    @Flag(help: "With --deidentify: keep dates and times (Retain Longitudinal Temporal Information, Full Dates).")
    var retainLongitudinalDates = false

    @Flag(help: "With --deidentify: keep station name, device serial numbers and device UIDs.")
    var retainDeviceIdentity = false

    @Flag(help: "With --deidentify: keep patient sex, age, size, weight, ethnic group, smoking and pregnancy status.")
    var retainPatientCharacteristics = false

    @Flag(help: "With --deidentify: keep descriptions with the file's identifying values taken out, instead of removing them.")
    var cleanDescriptors = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive, not \(maxPixels)") }
        if let frame, frame < 1 { throw ValidationError("--frame must be 1 or more, not \(frame)") }
        if !deidentify && (retainLongitudinalDates || retainDeviceIdentity || retainPatientCharacteristics || cleanDescriptors) {
            throw ValidationError("--retain-… and --clean-descriptors go with --deidentify")
        }
        if let license, license.isEmpty || license.contains(where: \.isNewline) {
            throw ValidationError("--license must be an SPDX identifier such as CC-BY-4.0, not '\(license)'")
        }
    }

    func execute() throws {
        let project = try projectOptions.openForWriting()
        var options = ImageImportOptions(paths: paths)
        options.modality = modality
        options.source = source
        options.license = license
        options.metadataCSV = metadata
        options.recursive = recursive
        options.link = link
        options.skipInvalid = skipInvalid
        options.maxPixels = maxPixels
        options.arguments = CommandLine.arguments
        options.showProgress = !output.json
        options.dicom.render = try dicom.renderOptions()
        options.dicom.frame = frame
        if deidentify {
            var deidentification = DeidentificationOptions()
            deidentification.retainLongitudinalDates = retainLongitudinalDates
            deidentification.retainDeviceIdentity = retainDeviceIdentity
            deidentification.retainPatientCharacteristics = retainPatientCharacteristics
            deidentification.cleanDescriptors = cleanDescriptors
            options.dicom.deidentification = deidentification
        }
        let report = try ImageImporter.run(options, into: project)
        if output.json {
            try Output.json(report)
        } else {
            printText(report)
        }
        if !report.committed { throw ExitCode(ExitCodes.problems) }
    }

    private func printText(_ report: ImageImportReport) {
        for rejected in report.rejected {
            Output.note("\(rejected.path): \(report.committed ? "skipped" : "error"): \(rejected.reason)")
        }
        for duplicate in report.duplicates {
            let what = duplicate.frame.map { "\(duplicate.path) (frame \($0))" } ?? duplicate.path
            if duplicate.frame != nil, let earlier = duplicate.sameAs {
                Output.note("\(what): renders to the same pixels as \(earlier), imported once")
            } else if let id = duplicate.existingImageId {
                Output.note("\(duplicate.path): already in the project as image \(id) (same bytes), nothing added")
            } else if let earlier = duplicate.sameAs {
                Output.note("\(duplicate.path): same bytes as \(earlier), imported once")
            }
        }
        if !report.committed {
            Output.error(
                "\(report.rejected.count) of \(report.filesSeen) file(s) cannot be imported; nothing was imported (use --skip-invalid to import the others)"
            )
            return
        }
        var line = "Imported \(report.imported) image(s), \(Output.bytes(report.bytes))"
        if !report.duplicates.isEmpty { line += "; \(report.duplicates.count) already present (nothing added for them)" }
        if !report.rejected.isEmpty { line += "; \(report.rejected.count) rejected and recorded" }
        if let batch = report.batchId { line += " [import batch \(batch)]" }
        print(line)
    }
}

/// The DICOM rendering options shared by `import images` and `render`.
struct DICOMRenderArguments: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "DICOM window: a preset (lung, mediastinum, bone, brain, abdomen, liver) or C,W (centre and width).",
            valueName: "preset|C,W"))
    var window: String?

    @Option(help: ArgumentHelp("Use the file's window (or VOI LUT) with this 0-based index.", valueName: "n"))
    var windowIndex: Int?

    @Option(help: ArgumentHelp("Bits per sample of PNGs rendered from DICOM.", valueName: "bits"))
    var renderBits: RenderBits = .eight

    func validate() throws {
        if let window, DICOMWindow.parse(window) == nil {
            throw ValidationError(
                "--window must be a preset (lung, mediastinum, bone, brain, abdomen, liver) or C,W with W >= 1, not '\(window)'")
        }
        if let windowIndex, windowIndex < 0 { throw ValidationError("--window-index must be 0 or more, not \(windowIndex)") }
        if window != nil && windowIndex != nil { throw ValidationError("--window and --window-index exclude each other") }
    }

    func renderOptions() throws -> DICOMRenderOptions {
        DICOMRenderOptions(window: window.flatMap(DICOMWindow.parse), windowIndex: windowIndex, outputBits: renderBits.rawValue)
    }
}

/// `--render-bits`: the bits per sample of PNGs rendered from DICOM.
enum RenderBits: Int, CaseIterable, ExpressibleByArgument {
    case eight = 8
    case sixteen = 16
}
