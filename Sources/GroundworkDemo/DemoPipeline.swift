import Foundation
import GroundworkAnnotations
import GroundworkBundledData
import GroundworkCore
import GroundworkGeometry
import GroundworkImaging
import GroundworkMetrics
import GroundworkReleases
import GroundworkStore

/// What the demo did, step by step.
public struct DemoReport: Codable, Sendable {
    public var project: String
    public var samples: String
    public var phantoms: Int
    public var targets: Int
    public var importReport: ImageImportReport
    /// The two readers' region imports (COCO JSON).
    public var regionImports: [AnnotationImportReport]
    public var agreement: AgreementReport
    public var consensus: ConsensusReport
    public var questions: GenerationReport
    public var validation: ValidationReport
    public var stats: ProjectStats
    public var check: ProjectCheckReport
    /// The split (by patient, stratified by modality), release 1.0.0, and its exports.
    public var split: SplitReport
    public var release: ReleaseSummary
    public var exports: [ExportReport]
    /// Made-up attention from two synthetic models on the jsonl export, each scored.
    public var attention: [SyntheticAttention.Report]
    public var scores: [ScoreSummary]
    /// The model that looks elsewhere (B) against the one that looks at the target (A).
    public var comparison: CompareReport
}

/// The README's first command: builds a project from the bundled sample data, offline, with the
/// same code paths a curator uses.
///
/// Steps: write the synthetic phantoms, their metadata CSV and their ground-truth targets to
/// `DIR/samples/`; create (or reopen) the project in `DIR/project`; import the samples with the metadata;
/// import two readers' boxes, measure their agreement and make a consensus; generate questions;
/// validate; split by patient; cut release 1.0.0 and export it; write made-up attention from two
/// synthetic models (one looks at the target, one elsewhere) into `DIR/attention/`, score both
/// into `DIR/scores/` and compare them. Running it again on the same folder is safe: the samples
/// are byte-identical, so the import adds nothing, the release is reused and every later file is
/// rewritten with the same bytes.
public enum DemoPipeline {
    /// The demo's split, release and export formats: Groundwork's JSONL and a Hugging Face folder.
    static let demoRatios = "train=0.5,test=0.5"
    static let demoVersion = "1.0.0"
    static let demoExports: [ExportFormat] = [.jsonl, .hf]

    /// The project's folder inside the demo folder.
    public static let projectName = "project"

    /// The demo folder, checked: new, empty, or a demo folder made before (it holds `project/`
    /// with a project); never a project, or a folder inside a project, an export or results.
    static func demoFolder(_ directory: String) throws -> String {
        let absolute = FileIO.absolute(directory)
        let root = try OutputGuard.checkPlacement(absolute, project: nil)
        let kind = FileIO.kind(root)
        guard kind.exists else { return root }
        guard kind.isDirectory else { throw OutputFolderError(path: absolute, reason: "this exists and is not a folder") }
        let isDemo = FileIO.kind("\(root)/\(projectName)/\(Project.databaseName)").isRegular
        if !isDemo, !(try FileIO.listDirectory(root)).isEmpty {
            throw OutputFolderError(
                path: absolute,
                reason: "this folder is not empty and is not a Groundwork demo folder: choose a new or empty folder")
        }
        return root
    }

    public static func run(directory: String, showProgress: Bool) throws -> DemoReport {
        let root = try demoFolder(directory)
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
        let projectFolder = root + "/" + projectName
        if FileIO.kind(projectFolder + "/" + Project.databaseName).isRegular {
            project = try Project.open(at: projectFolder)
        } else {
            project = try Project.create(at: projectFolder)
        }
        // Closed when the demo ends, not when the last worker thread lets go of it.
        defer { project.close() }
        var options = ImageImportOptions(paths: phantoms.map { samples + "/" + $0.fileName })
        options.metadataCSV = samples + "/metadata.csv"
        options.source = "groundwork-phantoms"
        options.license = "CC0-1.0"
        options.arguments = CommandLine.arguments
        options.showProgress = showProgress
        let importReport = try ImageImporter.run(options, into: project)

        // The starter taxonomy, then two readers' boxes for every target, as COCO JSON files
        // (reader 2 drew each box a little differently, so the readers can be compared).
        guard let taxonomyPath = BundledData.taxonomy?.path else {
            throw DiagnosticsError(summary: "the bundled taxonomy is missing from this installation", diagnostics: [])
        }
        let taxonomy = try TaxonomyFile.load(path: taxonomyPath)
        try project.database.write { db in _ = try taxonomy.install(into: db) }
        var regionImports: [AnnotationImportReport] = []
        for (reader, jitter) in [("radiologist-1", 0.0), ("radiologist-2", 1.5)] {
            let file = samples + "/regions-\(reader).coco.json"
            try FileIO.writeAtomically(file, bytes: Array(try cocoFile(phantoms, jitter: jitter).utf8))
            var regionOptions = AnnotationImportOptions(file: file)
            regionOptions.format = .coco
            regionOptions.annotator = reader
            regionOptions.annotatorRole = "radiologist"
            regionOptions.arguments = CommandLine.arguments
            regionImports.append(try AnnotationImporter.run(regionOptions, into: project))
        }
        let agreement = try AgreementReport.compute(project)
        let consensus = try Consensus.run(.meanBox, project: project, arguments: CommandLine.arguments)
        guard let templatePath = BundledData.template("localization")?.path else {
            throw DiagnosticsError(summary: "the bundled question templates are missing from this installation", diagnostics: [])
        }
        let questions = try QuestionGenerator.run(
            template: try TemplateFile.load(path: templatePath), negatives: 1, seed: 0, project: project,
            arguments: CommandLine.arguments)
        let validation = try ProjectValidation.run(project)

        // A split by patient, release 1.0.0 (made once: releases are immutable), and its exports.
        let split = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse(demoRatios), groupBy: .patient, stratify: [.modality], seed: 0))
        let release =
            try ReleaseCatalog.list(project).contains { $0.version == demoVersion }
            ? try ReleaseCatalog.show(project, version: demoVersion)
            : try ReleaseBuilder.create(
                project, request: ReleaseRequest(version: SemanticVersion(demoVersion), notes: "The Groundwork demo release."))
        var exports: [ExportReport] = []
        for format in demoExports {
            exports.append(
                try Exporter.export(
                    project, version: demoVersion, format: format, out: "\(root)/exports/\(format.rawValue)-\(demoVersion)",
                    force: true, showProgress: showProgress))
        }
        // Two made-up models' attention on the jsonl export, scored and compared.
        let releaseFolder = URL(fileURLWithPath: "\(root)/exports/\(ExportFormat.jsonl.rawValue)-\(demoVersion)")
        var attention: [SyntheticAttention.Report] = []
        var scores: [ScoreSummary] = []
        for model in SyntheticAttention.Model.allCases {
            let folder = "\(root)/attention/\(model.rawValue)"
            attention.append(
                try SyntheticAttention.write(release: releaseFolder, to: URL(fileURLWithPath: folder), model: model, seed: 0))
            var parameters = ScoreParameters(
                release: releaseFolder.path, attention: folder, output: "\(root)/scores/\(model.rawValue)")
            parameters.showProgress = showProgress
            parameters.force = true
            scores.append(try Scorer.run(parameters))
        }
        let comparison = try Comparison.run(
            "\(root)/scores/\(SyntheticAttention.Model.attendsToTarget.rawValue)",
            "\(root)/scores/\(SyntheticAttention.Model.attendsElsewhere.rawValue)")
        return DemoReport(
            project: project.root, samples: samples, phantoms: phantoms.count,
            targets: phantoms.reduce(0) { $0 + $1.targets.count }, importReport: importReport, regionImports: regionImports,
            agreement: agreement, consensus: consensus, questions: questions, validation: validation,
            stats: try ProjectStats.compute(project), check: try ProjectCheck.run(project, fix: false, showProgress: false),
            split: split, release: release, exports: exports, attention: attention, scores: scores,
            comparison: comparison)
    }

    /// A COCO JSON of the phantoms' targets as one reader would draw them: boxes `[x, y, w, h]`,
    /// moved by up to `jitter` pixels per edge (deterministically), kept inside the image.
    static func cocoFile(_ phantoms: [Phantom], jitter: Double) throws -> String {
        var images: [[String: Any]] = []
        var annotations: [[String: Any]] = []
        var categories: [String: Int] = [:]
        var rng = SplitMix64(seed: 42)
        for (index, phantom) in phantoms.enumerated() {
            let info = try ImageDecoder.inspect(phantom.bytes)
            images.append(["id": index + 1, "file_name": phantom.fileName, "width": info.width, "height": info.height])
            for target in phantom.targets {
                let category = categories[target.label] ?? (categories.count + 1)
                categories[target.label] = category
                func move(_ value: Double, _ limit: Double) -> Double {
                    guard jitter > 0 else { return value }
                    let offset = (Double(rng.next() % 1000) / 999 * 2 - 1) * jitter
                    return min(max(value + offset, 0), limit)
                }
                let x0 = move(target.box[0], Double(info.width)), y0 = move(target.box[1], Double(info.height))
                let x1 = max(move(target.box[2], Double(info.width)), x0 + 1),
                    y1 = max(move(target.box[3], Double(info.height)), y0 + 1)
                let bbox = try BoxConvention.cocoXYWH.fromBox(
                    Box(x0: x0, y0: y0, x1: min(x1, Double(info.width)), y1: min(y1, Double(info.height))),
                    imageWidth: info.width, imageHeight: info.height)
                annotations.append([
                    "id": annotations.count + 1, "image_id": index + 1, "category_id": category, "bbox": bbox, "iscrowd": 0,
                    "area": bbox[2] * bbox[3],
                ])
            }
        }
        let document: [String: Any] = [
            "info": ["description": "Groundwork demo phantoms", "version": "1.0"],
            "images": images, "annotations": annotations,
            "categories": categories.sorted { $0.value < $1.value }.map { ["id": $0.value, "name": $0.key] },
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
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
