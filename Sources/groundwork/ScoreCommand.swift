import ArgumentParser
import Foundation
import GroundworkCore
import GroundworkMetrics

extension CellRule: ExpressibleByArgument {}
extension ScoresFormat: ExpressibleByArgument {}

/// `groundwork score`: scoring (the default) and merging shards.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a model's attention maps against a release's expert regions, layer by layer.",
        discussion: "`groundwork score RELEASE_DIR ...` is `groundwork score run RELEASE_DIR ...`.",
        subcommands: [ScoreRunCommand.self, ScoreMergeCommand.self],
        defaultSubcommand: ScoreRunCommand.self)
}

/// `groundwork score [run]`
struct ScoreRunCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Score a model's attention maps against a release's expert regions, layer by layer.",
        discussion: Help.reflow(
            """
            RELEASE_DIR is a release exported with `groundwork export VERSION --format jsonl`; --attention names a
            submission folder: submission.json (schemas/attention-submission.schema.json) and the tensors, keyed by
            question id, in safetensors, one .npy per question, or PNG heatmaps (preprocessing none). The submission
            must have been made on the same release (version and root hash).

            Writes to --out: every map's values in the form --scores-format names, summary.json (per-layer mean and bootstrap 95% CI of every metric,
            breakdowns by modality, label, question type and split, chance levels, counts of scored, skipped and
            failed questions with reasons) and summary.svg (a per-layer curve of each metric with its CI band and
            chance line). The compact form (the default) is scores.npy, float64 [questions, layers, heads, metrics]
            (no heads axis for the mean over heads; NaN where a metric is undefined), scores-notes.npy (the reason's
            code, listed in the index) and scores-index.json (the questions, layers, heads and metrics of each axis;
            schemas/score-index.schema.json); rows writes scores.csv and scores.jsonl, one row per question, layer,
            head and metric (question, layer, head, metric, value, note), csv or jsonl only one of them. Same inputs
            and seed give byte-identical files. The results are written into a hidden
            folder beside --out and renamed at the end. --out must be new or empty, outside every project, export
            and results folder; --force replaces a results folder that score wrote (and nothing else).

            With the model's answers.jsonl beside the maps (the model kit writes it), summary.json also holds the
            accuracy by group and every metric split by answers right and wrong, and answers-judged.jsonl holds each
            answered question's judgement (schemas/answers-judged-line.schema.json), which `groundwork compare` pairs
            between two runs.

            Metrics: \(Metrics.all.map { $0.versionedID }.joined(separator: ", ")).
            Only groundable questions with at least one region are scored; the others are counted as skipped.

            On a cluster: --shard K/N (K from 0) scores the K-th of N contiguous shares of the questions and
            writes shard.jsonl beside its rows; `groundwork score merge SHARD_DIR... --out DIR` puts the N
            shards together, byte-identical to one unsharded run (tools/score-slurm.sh, tools/score-k8s-job.yaml).

            Exit codes:
              0   every groundable question was scored
              1   the release, the submission or --out has problems, or a folder named does not exist or
                  cannot be read (nothing written); or some questions failed (non-finite maps, targets
                  outside the grid; the results are written and list them)
              2   the results could not be written (I/O error)
              64  usage error
            """))

    @Argument(help: ArgumentHelp("The exported release folder (manifest.json, <split>.jsonl).", valueName: "release-dir"))
    var release: String

    @Option(help: ArgumentHelp("The submission folder (submission.json and tensors).", valueName: "dir"))
    var attention: String

    @Option(help: ArgumentHelp("The results folder to write (new or empty, unless --force).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Comma-separated metric ids (default: all).", valueName: "ids"))
    var metrics: String?

    @Flag(help: "Score every head separately (default: the mean map over heads, per layer).")
    var perHead = false

    @Option(help: ArgumentHelp("Layers to score, e.g. 0,4,8-11 (default: all).", valueName: "list"))
    var layers: String?

    @Option(help: ArgumentHelp("Bootstrap replicates for the 95% CIs (0 for none).", valueName: "n"))
    var bootstrap = 1000

    @Option(help: ArgumentHelp("Resampling seed.", valueName: "s"))
    var seed: UInt64 = 0

    @Flag(help: "Count questions without attention as skipped instead of failing.")
    var allowMissing = false

    @Option(
        help: ArgumentHelp(
            "How a grid cell becomes target: overlap (positive-area overlap, the study's rule) or coverage (covered fraction as weight).",
            valueName: "rule"))
    var cellRule: CellRule = .overlap

    @Option(help: ArgumentHelp("Pointing-game tolerance in image pixels.", valueName: "px"))
    var tolerance: Double = 0

    @Option(
        help: ArgumentHelp(
            "Score only share K of N (K from 0): contiguous runs of the release's questions, for a cluster's array job; put them together with `score merge`.",
            valueName: "K/N"))
    var shard: ScoreShard?

    @Option(
        help: ArgumentHelp(
            "How every map's values are written: compact (npy arrays with an index), rows (scores.csv and scores.jsonl), csv or jsonl.",
            valueName: "form"))
    var scoresFormat: ScoresFormat = .compact

    @Flag(help: "Replace --out if it is a results folder groundwork score wrote (and holds nothing else).")
    var force = false

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard bootstrap >= 0 else { throw ValidationError("--bootstrap must be >= 0, not \(bootstrap)") }
        if let layers {
            // A malformed list is a usage error; each layer is checked against the submission later.
            do { _ = try parseLayerList(layers, count: Int(Int32.max)) } catch {
                throw ValidationError(([error.summary] + error.diagnostics.map(\.message)).joined(separator: ": "))
            }
        }
        guard tolerance >= 0, tolerance.isFinite else {
            throw ValidationError("--tolerance must be a finite number >= 0, not \(tolerance)")
        }
        if let metrics {
            let unknown = metrics.split(separator: ",").map(String.init).filter { Metrics.named($0) == nil }
            if !unknown.isEmpty {
                throw ValidationError(
                    "unknown metric(s) \(unknown.joined(separator: ", ")); known: \(Metrics.all.map { $0.id }.joined(separator: ", "))"
                )
            }
        }
    }

    func execute() throws {
        var parameters = ScoreParameters(release: release, attention: attention, output: out)
        if let metrics {
            parameters.metrics = metrics.split(separator: ",").compactMap { Metrics.named(String($0)) }
        }
        parameters.perHead = perHead
        parameters.bootstrap = bootstrap
        parameters.seed = seed
        parameters.allowMissing = allowMissing
        parameters.cellRule = cellRule
        parameters.tolerance = tolerance
        parameters.showProgress = !output.json
        parameters.force = force
        parameters.shard = shard
        parameters.scoresFormat = scoresFormat
        parameters.removedLeftovers = { leftovers in
            for leftover in leftovers { Output.note("Removed \(leftover): the leftover of an interrupted score run") }
        }
        if let layers {
            // The layer count is known once the submission is read; parse against a generous bound, the
            // scorer checks each layer against the submission.
            parameters.layers = try parseLayerList(layers, count: Int(Int32.max))
        }
        let summary = try Scorer.run(parameters)
        try Output.report(summary, json: output.json) {
            Output.diagnostics(summary.warnings)
            Output.diagnostics(summary.failures)
            let c = summary.counts
            print(
                "\(summary.model): \(c.scored) of \(c.questions) question(s) scored, \(c.skipped) skipped\(Self.reasons(c.skippedReasons)), \(c.failed) failed\(Self.reasons(c.failedReasons))"
            )
            for metric in summary.metrics {
                let best = metric.layers.compactMap { s in s.mean.map { (s.layer, $0) } }
                    .max { metric.higherIsBetter ? $0.1 < $1.1 : $0.1 > $1.1 }
                let chance = metric.chance.map { String(format: "%.4f", $0) } ?? "-"
                let bestText = best.map { String(format: "best layer %d: %.4f", $0.0, $0.1) } ?? "no values"
                print("  \(metric.id.padding(toLength: 28, withPad: " ", startingAt: 0)) \(bestText)  (chance \(chance))")
            }
            if !summary.cropLoss.isEmpty {
                print("  the centre crop cut the target of \(summary.cropLoss.count) question(s) (see summary.json crop_loss)")
            }
            print("Wrote \(summary.files.map { out + "/" + $0 }.joined(separator: ", "))")
        }
        if summary.counts.failed > 0 { throw ExitCode(ExitCodes.problems) }
    }

    static func reasons(_ reasons: [String: Int]) -> String {
        reasons.isEmpty
            ? "" : " (" + reasons.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
    }
}

extension ScoreShard: ExpressibleByArgument {
    public init?(argument: String) {
        guard let shard = ScoreShard.parse(argument) else { return nil }
        self = shard
    }
}

/// `groundwork score merge`
struct ScoreMergeCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Put the shards of one scoring run (score --shard K/N) together into one results folder.",
        discussion: Help.reflow(
            """
            Every shard of the run must be given once: a missing, duplicated or mismatched shard (another release,
            submission, scoring options, shard count or form of the scores) is refused by name and nothing is
            written. The merged scores (in the shards' form), summary.json (bootstrap CIs included) and summary.svg
            are byte-identical to one unsharded run's.

            Exit codes: 0 merged; 1 the shards cannot be merged or --out is refused; 2 a file could not be read or
            written; 64 usage error.
            """))

    @Argument(help: ArgumentHelp("The shards' results folders, in any order.", valueName: "shard-dir"))
    var shards: [String]

    @Option(help: ArgumentHelp("The results folder to write (new or empty, unless --force).", valueName: "dir"))
    var out: String

    @Flag(help: "Replace --out if it is a results folder groundwork score wrote (and holds nothing else).")
    var force = false

    @OptionGroup var output: JSONOption

    func execute() throws {
        let summary = try Scorer.merge(shards: shards, output: out, force: force, showProgress: !output.json)
        try Output.report(summary, json: output.json) {
            let c = summary.counts
            print(
                "Merged \(shards.count) shard(s) of \(summary.model): \(c.scored) of \(c.questions) question(s) scored, \(c.skipped) skipped, \(c.failed) failed"
            )
            print("Wrote \(summary.files.map { out + "/" + $0 }.joined(separator: ", "))")
        }
        if summary.counts.failed > 0 { throw ExitCode(ExitCodes.problems) }
    }
}
