import Foundation
import GroundworkCore
import GroundworkImaging
import GroundworkStore

/// What the demo did, step by step.
public struct DemoReport: Codable, Sendable {
    public var project: String
    public var samples: String
    public var phantoms: Int
    public var targets: Int
    public var importReport: ImageImportReport
    public var stats: ProjectStats
    public var check: ProjectCheckReport
}

/// The README's first command: builds a project from the bundled sample data, offline, with the
/// same code paths a curator uses.
///
/// Steps: write the synthetic phantoms, their metadata CSV and their ground-truth targets to
/// `DIR/samples/`; create (or reopen) the project in `DIR`; import the samples with the metadata;
/// compute the statistics; check the project. Running it again on the same folder is safe: the
/// samples are byte-identical, so the import adds nothing.
public enum DemoPipeline {
    public static func run(directory: String, showProgress: Bool) throws -> DemoReport {
        let root = FileIO.absolute(directory)
        let samples = root + "/samples"
        try FileIO.makeDirectories(samples)
        let phantoms = try PhantomFactory.all()
        var csv = "file_name,patient_id,study_id,modality,body_part,description\n"
        for phantom in phantoms {
            try FileIO.writeAtomically(samples + "/" + phantom.fileName, bytes: phantom.bytes)
            csv +=
                [phantom.fileName, phantom.patientId, phantom.studyId, phantom.modality, phantom.bodyPart, phantom.description]
                .map(csvField).joined(separator: ",") + "\n"
        }
        try FileIO.writeAtomically(samples + "/metadata.csv", bytes: Array(csv.utf8))
        let truth = phantoms.map { TargetsFile.Entry(fileName: $0.fileName, targets: $0.targets) }
        let truthJSON = try CanonicalJSON.string(TargetsFile(convention: TargetsFile.conventionText, images: truth))
        try FileIO.writeAtomically(samples + "/targets.json", bytes: Array((truthJSON + "\n").utf8))

        let project: Project
        if FileIO.kind(root + "/" + Project.databaseName).isRegular {
            project = try Project.open(at: root)
        } else {
            project = try Project.create(at: root)
        }
        var options = ImageImportOptions(paths: phantoms.map { samples + "/" + $0.fileName })
        options.metadataCSV = samples + "/metadata.csv"
        options.source = "groundwork-phantoms"
        options.license = "CC0-1.0"
        options.arguments = CommandLine.arguments
        options.showProgress = showProgress
        let importReport = try ImageImporter.run(options, into: project)
        return DemoReport(
            project: project.root, samples: samples, phantoms: phantoms.count,
            targets: phantoms.reduce(0) { $0 + $1.targets.count }, importReport: importReport,
            stats: try ProjectStats.compute(project), check: try ProjectCheck.run(project, fix: false, showProgress: false))
    }

    private static func csvField(_ value: String) -> String {
        value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }
}

/// `samples/targets.json`: where each phantom's targets are, for the annotation stage.
struct TargetsFile: Codable {
    static let conventionText = "boxes are [x0, y0, x1, y1]: 0-based, continuous, half-open, in displayed-image pixels"

    struct Entry: Codable {
        var fileName: String
        var targets: [PhantomTarget]
    }

    var convention: String
    var images: [Entry]
}
