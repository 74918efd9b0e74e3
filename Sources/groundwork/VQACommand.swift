import ArgumentParser
import Foundation
import GroundworkAnnotations
import GroundworkBundledData
import GroundworkCore
import GroundworkStore

/// `groundwork vqa …`
struct VQACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqa",
        abstract: "List, review and generate VQA items.",
        subcommands: [VQAListCommand.self, VQAReviewCommand.self, VQAGenerateCommand.self, VQAClassifyCommand.self],
        defaultSubcommand: VQAListCommand.self)
}

/// `groundwork vqa list`
struct VQAListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List questions with their answers and target regions.")

    @OptionGroup var filters: AnnotationFilters

    @Option(help: "Only this question type: localization, attribute, classification, other.")
    var questionType: QuestionType?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let rows = try project.questions(matching: filters.filter(questionType: questionType))
        if output.json {
            try Output.json(rows)
            return
        }
        for row in rows {
            let targets = row.targetRegionIds.isEmpty ? "-" : row.targetRegionIds.map(String.init).joined(separator: ",")
            print(
                [
                    String(row.id), String(row.imageId), row.question, row.answer, row.label ?? "-",
                    row.groundable ? "groundable" : "-", targets,
                ].joined(separator: "\t"))
        }
    }
}

/// `groundwork vqa review ID… --status S`
struct VQAReviewCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Set the review status of questions (draft, reviewed, rejected).")

    @Argument(help: "Question ids.")
    var ids: [Int64]

    @Option(help: "The new status: draft, reviewed or rejected.")
    var status: ReviewStatus

    @Option(help: ArgumentHelp("The reviewer's name, recorded with the time (default: your user name).", valueName: "name"))
    var reviewer: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        try ReviewRunner.run(
            ids: ids, status: status, table: .vqaItem, reviewer: reviewer, project: projectOptions, json: output.json)
    }
}

/// `groundwork vqa generate`
struct VQAGenerateCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Make VGMED-style questions from the project's regions, with templates.",
        discussion: Help.reflow(
            """
            One question per (image, label) that has regions, its target the union of those regions; the phrasing
            and the label's name (display name or synonym) are picked by a seeded hash, so the same seed gives the
            same questions. --negatives N adds up to N questions per image about labels absent from it (answer "no",
            not groundable), chosen among the template's negatives for the image's modality. Re-running adds nothing.
            """))

    @Option(help: ArgumentHelp("A template file (default: the bundled localization templates).", valueName: "file"))
    var templates: String?

    @Option(help: "Negative questions per image.")
    var negatives: Int = 0

    @Option(help: "The seed for every choice.")
    var seed: UInt64 = 0

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        guard let path = templates ?? BundledData.template("localization")?.path else {
            try Output.fail(
                "the bundled templates are missing from this installation; pass --templates FILE", json: output.json,
                code: ExitCodes.project)
        }
        // The file is checked before the project is opened for writing.
        let template = try TemplateFile.load(path: path)
        let project = try projectOptions.openForWriting()
        let report = try QuestionGenerator.run(
            template: template, negatives: negatives, seed: seed, project: project, arguments: CommandLine.arguments)
        try Output.report(report, json: output.json) {
            print(
                "Generated \(report.positives) question(s) and \(report.negatives) negative(s) from '\(report.template)' (seed \(report.seed)); \(report.existing) already present"
            )
        }
    }
}

/// `groundwork vqa classify`
struct VQAClassifyCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Make multiple-choice classification questions from image-level class labels.",
        discussion: Help.reflow(
            """
            The options are the class set (every label used as an image label, or those under --parent), in name
            order, so an option letter means the same class on every item; the answer is the image's class. Images
            with several class labels are skipped. The items are not groundable. Re-running adds nothing.
            """))

    @Option(help: "The question asked of every image.")
    var question = "Which of the following best describes this image?"

    @Option(help: "Only classes under this parent label.")
    var parent: String?

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let report = try Output.attempt(json: output.json) {
            try ClassificationQuestions.run(
                question: question, parent: parent, project: project, arguments: CommandLine.arguments)
        }
        try Output.report(report, json: output.json) {
            print(
                "Made \(report.made) classification question(s) over \(report.classes.count) classes (\(report.classes.joined(separator: ", "))); \(report.existing) already present, \(report.skippedMultiLabel) multi-label image(s) skipped"
            )
        }
    }
}
