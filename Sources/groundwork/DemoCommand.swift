import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkDemo

/// `groundwork demo [DIR]`
struct DemoCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a demo project from bundled synthetic phantoms, offline, and show what it holds.",
        discussion: Help.reflow(
            """
            Writes seven synthetic phantoms (CT- and MR-like 16-bit PNGs, X-ray-like 8-bit PNGs, an ultrasound-like
            JPEG with an EXIF orientation, an endoscopy-like RGB JPEG), a metadata CSV and the phantoms' known
            lesion boxes to DIR/samples, creates a project in DIR/project (or reuses it), imports the samples,
            loads the starter taxonomy, imports two readers' boxes (COCO JSON), measures their agreement, makes
            consensus boxes, generates localization questions with negatives, validates, checks the project,
            splits it by patient, cuts release 1.0.0 and exports it to DIR/exports (beside the project, never in
            it). DIR must be new, empty or a demo folder made before. Running it again adds nothing.
            """))

    @Argument(help: "The folder for the demo project.")
    var directory: String = "groundwork-demo"

    @OptionGroup var output: JSONOption

    func execute() throws {
        let report: DemoReport
        do {
            report = try DemoPipeline.run(directory: directory, showProgress: !output.json)
        } catch let error as OutputFolderError {
            throw error  // the user's choice of folder: exit 1, reported where every error is
        } catch {
            // Every step of the demo works on bundled, known-good inputs: any failure is the machine's.
            try Output.fail("the demo failed: \(Output.classify(error).summary)", json: output.json, code: ExitCodes.project)
        }
        if output.json {
            try Output.json(report)
        } else {
            let imported = report.importReport
            print("Groundwork demo in \(report.project)")
            print("1. Wrote \(report.phantoms) synthetic phantoms with \(report.targets) known targets to \(report.samples)")
            print(
                "2. Imported \(imported.imported) image(s) (\(Output.bytes(imported.bytes))), \(imported.duplicates.count) already present"
            )
            print("3. The project holds \(report.stats.images) image(s) of \(report.stats.patients) patient(s):")
            for group in report.stats.byModality {
                print("     \(group.value ?? "(unset)")\t\(group.images) image(s)")
            }
            let regionFiles = report.regionImports.map {
                "\($0.regionsAdded) from \(($0.file as NSString).lastPathComponent) (\($0.duplicates) already present)"
            }
            print("4. Imported regions from two readers: \(regionFiles.joined(separator: "; "))")
            let meanIou = report.agreement.findings.map(\.meanIou).reduce(0, +) / Double(max(report.agreement.findings.count, 1))
            print(
                "5. Reader agreement: \(report.agreement.findings.count) finding(s), mean IoU \(String(format: "%.3f", meanIou)); \(report.consensus.made) consensus region(s) by \(report.consensus.method)"
            )
            print(
                "6. Generated \(report.questions.positives) localization question(s) and \(report.questions.negatives) negative(s); \(report.questions.existing) already present"
            )
            print("7. Validate: \(report.validation.errors) error(s), \(report.validation.warnings) warning(s)")
            let errors = report.check.findings.filter { $0.severity == .error }.count
            print("8. Check: database \(report.check.integrity), \(report.check.objectsChecked) object(s), \(errors) error(s)")
            let parts = report.split.parts.map { "\($0.name) \($0.images) image(s)" }.joined(separator: ", ")
            print("9. Split by patient, stratified by modality: \(parts); \(report.split.leakage.summary)")
            print("10. Release \(report.release.version): content \(report.release.contentHash.prefix(16))…")
            for export in report.exports {
                print(
                    "11. Exported \(export.format.rawValue) to \(export.out) (\(export.files) file(s), root \(export.rootHash.prefix(16))…)"
                )
            }
            for (index, summary) in report.scores.enumerated() {
                let ratio = summary.metrics.first { $0.id.hasPrefix("attention_ratio") }
                let best = ratio?.layers.compactMap { stat in stat.mean.map { (stat.layer, $0) } }.max { $0.1 < $1.1 }
                let text =
                    best.map { String(format: "peak attention ratio %.2f at layer %d", $0.1, $0.0) } ?? "no attention ratio"
                print("\(12 + index). Scored \(summary.model): \(summary.counts.scored) question(s), \(text) (chance 1)")
            }
            let comparison = report.comparison
            if let ratio = comparison.metrics.first(where: { $0.id.hasPrefix("attention_ratio") }),
                let row = ratio.layers.filter({ $0.difference != nil }).max(by: { abs($0.difference!) < abs($1.difference!) }),
                let difference = row.difference
            {
                let p = row.pValue.map { String(format: "p = %.4f", $0) } ?? "no p-value"
                print(
                    "\(12 + report.scores.count). Compared \(comparison.b.model) with \(comparison.a.model) on \(comparison.questionsBoth) question(s): attention ratio differs by \(String(format: "%.2f", difference)) at layer \(row.layer) (\(p))"
                )
            }
            print("Next: cd \(report.project) && groundwork release show \(report.release.version); open ../scores/*/summary.svg")
        }
        if report.check.hasErrors || !report.importReport.committed || report.validation.errors > 0 {
            throw ExitCode(ExitCodes.problems)
        }
    }
}
