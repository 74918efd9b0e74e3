import ArgumentParser
import GroundworkStore

/// `groundwork stats`
struct StatsCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count the project's images by format, modality, source and patient, with pixels and bytes.")

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let stats = try ProjectStats.compute(project)
        if output.json {
            try Output.json(stats)
            return
        }
        print("Project \(project.root)")
        print(
            "  \(stats.images) image(s), \(Output.bytes(stats.bytes)), \(stats.pixels) pixels; \(stats.patients) patient(s), \(stats.studies) stud(ies); \(stats.importBatches) import batch(es)"
        )
        func section(_ title: String, _ groups: [ProjectStats.Group], limit: Int = 20) {
            guard !groups.isEmpty else { return }
            print("\(title):")
            for group in groups.prefix(limit) {
                print("  \(group.value ?? "(unset)")\t\(group.images) image(s)\t\(Output.bytes(group.bytes))")
            }
            if groups.count > limit { print("  … and \(groups.count - limit) more (see --json)") }
        }
        print(
            "  \(stats.regions) region(s), \(stats.vqaItems) question(s) (\(stats.groundableVqaItems) groundable), \(stats.labels) label(s), \(stats.annotators) annotator(s)"
        )
        section("By format", stats.byFormat)
        section("By modality", stats.byModality)
        section("By source", stats.bySource)
        section("By patient (most images first)", stats.byPatient, limit: 10)
    }
}
