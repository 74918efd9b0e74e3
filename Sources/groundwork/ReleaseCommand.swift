import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkReleases
import GroundworkStore

extension SemanticVersion.Part: ExpressibleByArgument {}

/// `groundwork release …`
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Cut, list, show and compare versioned, immutable releases.",
        subcommands: [
            ReleaseCreateCommand.self, ReleaseListCommand.self, ReleaseShowCommand.self, ReleaseDiffCommand.self,
        ],
        defaultSubcommand: ReleaseListCommand.self)
}

/// `groundwork release create`
struct ReleaseCreateCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Freeze what a release contains: images, regions, questions, labels and split assignments.",
        discussion: Help.reflow(
            """
            The release copies its content into release tables that the database keeps immutable: later edits
            of regions or questions change only what the next release will contain. Rejected regions and
            questions are never released; drafts are unless --reviewed-only.

            Gates (all problems are listed together; nothing is written when one fails): the version is
            greater than every earlier one; every image is placed in the split; every image has a source and
            a licence (its own, or its source's: groundwork sources set); no image is flagged for burned-in
            identifiers; every groundable question keeps a released region; no leakage across parts unless
            --waive-leakage gives a reason, which is recorded in the release and its manifests.

            --rai FILE.yaml gives the Responsible-AI statement every export's croissant.json carries
            (schemas/release-rai.schema.json: name, description, url, creators, citation,
            data_collection, annotation_process, annotators, limitations, biases,
            personal_sensitive_information, intended_use); it is kept with the release, outside its
            content hash. Without it the release is still cut, and release show lists the fields missing.

            Exit codes: 0 created; 1 a gate failed (nothing written); 2 project error.
            """))

    @Argument(help: "The version to cut, MAJOR.MINOR.PATCH (default: --bump of the last; 1.0.0 for the first).")
    var version: String?

    @Option(help: "Pick the next version from the last: major, minor or patch.")
    var bump: SemanticVersion.Part?

    @Option(help: "The split whose parts the release uses (default: the only split; without one, every image is 'test').")
    var split: String?

    @Option(help: "A file with release notes (Markdown), kept in the release.")
    var notes: String?

    @Option(
        help: ArgumentHelp(
            "The Responsible-AI statement (YAML) for the exports' Croissant metadata.", valueName: "file.yaml"))
    var rai: String?

    @Option(
        name: .customLong("where"),
        help: ArgumentHelp(
            "Only images with these values, e.g. modality=CT,source=NIH (columns: \(ImageFilter.columns.joined(separator: ", "))).",
            valueName: "filter"))
    var filter: String?

    @Flag(help: "Only reviewed regions and questions.")
    var reviewedOnly = false

    @Option(help: ArgumentHelp("Release despite leakage, for this recorded reason.", valueName: "reason"))
    var waiveLeakage: String?

    @Option(help: "Near duplicates: perceptual-hash Hamming distance at most this (of 64 bits).")
    var nearDuplicateThreshold = LeakageCheck.defaultThreshold

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func validate() throws {
        if let version, SemanticVersion(version) == nil {
            throw ValidationError("'\(version)' is not a version MAJOR.MINOR.PATCH (e.g. 1.0.0)")
        }
        if version != nil && bump != nil { throw ValidationError("give a version or --bump, not both") }
    }

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let summary = try Output.attempt(json: output.json) {
            var request = ReleaseRequest(version: version.flatMap(SemanticVersion.init), bump: bump, split: split)
            if let notes {
                do {
                    request.notes = String(decoding: try FileIO.readAll(notes), as: UTF8.self)
                } catch {
                    throw DiagnosticsError(
                        summary: "cannot read the release notes",
                        diagnostics: [Diagnostic(.error, file: notes, code: "unreadable", message: "\(error)")])
                }
            }
            if let filter { request.filter = try ImageFilter.parse(filter) }
            request.reviewedOnly = reviewedOnly
            request.leakageWaiver = waiveLeakage
            request.nearDuplicateThreshold = nearDuplicateThreshold
            if let rai { request.rai = try RAIStatement.read(file: rai) }
            return try ReleaseBuilder.create(project, request: request)
        }
        try Output.report(summary, json: output.json) { printSummary(summary, created: true) }
    }
}

/// `groundwork release list`
struct ReleaseListCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the releases, oldest first.")

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let releases = try ReleaseCatalog.list(project)
        try Output.report(releases, json: output.json) {
            if releases.isEmpty { print("No release yet: groundwork release create 1.0.0") }
            for release in releases {
                print(
                    "\(release.version)\t\(release.created)\tsplit \(release.split ?? "(none)")\t\(release.images) image(s)\t\(release.questions) question(s)\t\(release.contentHash.prefix(12))"
                )
            }
        }
    }
}

/// `groundwork release show`
struct ReleaseShowCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show exactly what a release holds, however the project changed since.")

    @Argument(help: "The release's version.")
    var version: String

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let summary = try Output.attempt(json: output.json) { try ReleaseCatalog.show(project, version: version) }
        try Output.report(summary, json: output.json) { printSummary(summary, created: false) }
    }
}

/// `groundwork release diff`
struct ReleaseDiffCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two releases: images, regions and questions added, removed and changed, per split.",
        discussion: "An item is changed when its id is in both releases with other content or in another part.")

    @Argument(help: "The older release.")
    var from: String

    @Argument(help: "The newer release.")
    var to: String

    @Flag(help: "List the ids of added, removed and changed items (always in --json).")
    var ids = false

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openReadOnly()
        let diff = try Output.attempt(json: output.json) { try ReleaseCatalog.diff(project, from: from, to: to) }
        try Output.report(diff, json: output.json) {
            print("\(diff.from) → \(diff.to): \(diff.identical ? "identical content" : "changed")")
            for part in diff.splits {
                print("  \(part.split)")
                for (name, changes) in [("images", part.images), ("regions", part.regions), ("questions", part.questions)] {
                    print(
                        "    \(name)\t+\(changes.added.count)\t-\(changes.removed.count)\t~\(changes.changed.count)\t=\(changes.unchanged)"
                    )
                    if ids {
                        for (sign, list) in [("+", changes.added), ("-", changes.removed), ("~", changes.changed)]
                        where !list.isEmpty {
                            print("      \(sign) " + list.map(String.init).joined(separator: " "))
                        }
                    }
                }
            }
        }
    }
}

private func printSummary(_ summary: ReleaseSummary, created: Bool) {
    print("\(created ? "Created release" : "Release") \(summary.version) (\(summary.created)), content \(summary.contentHash)")
    if let split = summary.parameters.split { print("  split '\(split)' by \(summary.parameters.groupBy?.rawValue ?? "?")") }
    if !summary.parameters.filter.isEmpty { print("  where \(summary.parameters.filter)") }
    for part in summary.splits {
        print(
            "  \(part.split)\t\(part.images) image(s)\t\(part.patients) patient(s)\t\(part.regions) region(s)\t\(part.questions) question(s) (\(part.groundableQuestions) groundable)"
        )
    }
    for source in summary.sources {
        print(
            "  source \(source.source ?? "(none)")\tlicence \(source.license ?? "(none)")\t\(source.images) image(s)\(source.restricted ? "\trestricted: exported by reference" : "")"
        )
    }
    print("  \(summary.leakage.summary)")
    if let waiver = summary.parameters.leakageWaiver { print("  leakage waived: \(waiver)") }
    printRAI(summary.rai)
}

/// The RAI statement's status: which of its fields the Croissant metadata lacks.
func printRAI(_ rai: RAIStatus) {
    if rai.missing.isEmpty {
        print("  RAI statement: complete")
    } else {
        print(
            "  RAI statement: \(rai.provided ? "" : "none (release create --rai FILE.yaml); ")missing \(rai.missing.joined(separator: ", "))"
        )
    }
}
