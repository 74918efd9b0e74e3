import Foundation
import Testing

/// The scoring commands end to end on the demo's release and its two made-up models: score,
/// compare, probe-health; their exit codes, their determinism and their JSON against schemas/.
@Suite(
    "Scoring commands",
    .serialized,
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON (tools/test does)"))
struct ScoreCLITests {
    @Test func scoreCompareAndTheirFiles() throws {
        let folder = TemporaryFolder()
        let demoFolder = folder.path + "/demo"
        let demo = try CLI.run(["demo", demoFolder, "--json"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let release = demoFolder + "/exports/jsonl-1.0.0"
        let good = demoFolder + "/attention/attends-to-target"
        let bad = demoFolder + "/attention/attends-elsewhere"
        try validateAgainstSchema("attention-submission", try String(contentsOfFile: good + "/submission.json", encoding: .utf8))

        // Score the good model twice: exit 0, the schema, byte-identical files.
        let first = try CLI.run([
            "score", release, "--attention", good, "--out", folder.path + "/s1", "--bootstrap", "200", "--json",
            "--scores-format", "rows",
        ])
        #expect(first.status == 0, "\(first.stderr)")
        try validateAgainstSchema("score-summary", first.stdout)
        let second = try CLI.run([
            "score", release, "--attention", good, "--out", folder.path + "/s2", "--bootstrap", "200", "--json",
            "--scores-format", "rows",
        ])
        #expect(second.status == 0)
        for file in ["scores.csv", "scores.jsonl", "summary.json", "summary.svg"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/s1/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/s2/" + file))
            #expect(!a.isEmpty && a == b, "\(file) differs between two identical runs")
        }
        try validateAgainstSchema("score-summary", try String(contentsOfFile: folder.path + "/s1/summary.json", encoding: .utf8))
        try validateAgainstSchema(
            "score-row", try String(contentsOfFile: folder.path + "/s1/scores.jsonl", encoding: .utf8), lines: true)
        let csv = try String(contentsOfFile: folder.path + "/s1/scores.csv", encoding: .utf8).split(separator: "\n")
        let jsonl = try String(contentsOfFile: folder.path + "/s1/scores.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "question,layer,head,metric,value,note")
        #expect(csv.count == jsonl.count + 1, "one CSV row per JSONL line, plus the header")

        // The looking-elsewhere model, per head on two layers; then compare: it is worse.
        let elsewhere = try CLI.run([
            "score", release, "--attention", bad, "--out", folder.path + "/s3", "--per-head", "--layers", "2-3", "--json",
        ])
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        let summary = try CLI.json(elsewhere.stdout)
        #expect((summary["parameters"] as? [String: Any])?["layers"] as? [Int] == [2, 3])
        let compared = try CLI.run(["compare", folder.path + "/s1", folder.path + "/s3", "--json"])
        #expect(compared.status == 0, "\(compared.stderr)")
        try validateAgainstSchema("compare-report", compared.stdout)
        let report = try CLI.json(compared.stdout)
        let metrics = try #require(report["metrics"] as? [[String: Any]])
        let ratio = try #require(metrics.first { ($0["id"] as? String)?.hasPrefix("attention_ratio") == true })
        let layers = try #require(ratio["layers"] as? [[String: Any]])
        #expect(layers.map { $0["layer"] as? Int } == [2, 3], "only the layers both runs scored")
        for row in layers {
            let difference = try #require(row["difference"] as? Double)
            let p = try #require(row["p_value"] as? Double)
            #expect(difference < 0 && p < 0.05, "looking elsewhere must lower the attention ratio: \(row)")
        }
        let text = try CLI.run(["compare", folder.path + "/s1", folder.path + "/s3"])
        #expect(text.status == 0 && text.stdout.contains("attention_ratio@1"))

        // A submission made on another release: exit 1, nothing written.
        let tampered = folder.path + "/tampered"
        try FileManager.default.copyItem(atPath: good, toPath: tampered)
        let submission = try String(contentsOfFile: tampered + "/submission.json", encoding: .utf8)
        let hash = try #require(try CLI.json(submission)["release"] as? [String: Any])["root_hash"] as! String
        try submission.replacingOccurrences(of: hash, with: String(repeating: "0", count: 64))
            .write(toFile: tampered + "/submission.json", atomically: true, encoding: .utf8)
        let wrong = try CLI.run(["score", release, "--attention", tampered, "--out", folder.path + "/s4", "--json"])
        #expect(wrong.status == 1)
        try validateAgainstSchema("error-report", wrong.stdout)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/s4/summary.json"))
        // Usage errors exit 64; an unreadable release folder is not a crash.
        #expect(
            try CLI.run(["score", release, "--attention", good, "--out", folder.path + "/s5", "--metrics", "nope"]).status == 64)
        #expect(try CLI.run(["score", folder.path + "/nowhere", "--attention", good, "--out", folder.path + "/s6"]).status != 0)
        // Comparing a folder that is not a results folder.
        #expect(try CLI.run(["compare", folder.path + "/s1", release]).status == 1)
    }

    @Test func probeHealthScoresAndReportsEveryBadLine() throws {
        let folder = TemporaryFolder()
        let curves = folder.write(
            "curves.csv",
            Array(
                """
                model,dataset,module,layer,accuracy,note
                m,busi,vision,0,0.5,
                m,busi,vision,1,0.4,dip
                m,busi,vision,2,0.8,
                m,busi,connector,0,0.8,
                m,busi,llm,1,0.9,
                m,busi,llm,0,0.7,

                """.utf8))
        let run = try CLI.run(["probe-health", curves, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        try validateAgainstSchema("probe-health-report", run.stdout)
        let profile = try #require((try CLI.json(run.stdout)["profiles"] as? [[String: Any]])?.first)
        // Vision: GF = ln(0.8 / sqrt(0.5 * 0.4)), VP = exp(-0.2 * (0.1 + 0.4) / 0.8).
        let gf = log(0.8 / (0.5 * 0.4).squareRoot())
        let vp = exp(-0.2 * 0.5 / 0.8)
        #expect(abs((profile["fhs_vision"] as? Double ?? 0) - 0.8 * (1 + gf) * vp) < 1e-12)
        #expect(abs((profile["fhs_connector"] as? Double ?? 0) - 0.8) < 1e-12, "one layer: FHS = P")
        // The LLM's layers are sorted: 0.7 then 0.9; P_final is the last layer's.
        #expect(profile["p_final"] as? Double == 0.9)
        let llmGF = log(0.9 / (0.7 * 0.7).squareRoot())
        #expect(abs((profile["fhs_llm"] as? Double ?? 0) - 0.9 * (1 + llmGF) * exp(-0.2 * 0.2 / 0.9)) < 1e-12)

        let broken = folder.write(
            "broken.csv",
            Array(
                "model,dataset,module,layer,accuracy\nm,d,eyes,0,0.5\nm,d,llm,x,0.5\nm,d,llm,0,0\nm,d,llm,1,0.5\nm,d,llm,1,0.6\n"
                    .utf8))
        let bad = try CLI.run(["probe-health", broken, "--json"])
        #expect(bad.status == 1)
        try validateAgainstSchema("error-report", bad.stdout)
        for line in ["\"line\":2", "\"line\":3", "\"line\":4", "\"line\":6"] {
            #expect(bad.stdout.replacingOccurrences(of: " ", with: "").contains(line), "no problem reported at \(line)")
        }
        #expect(try CLI.run(["probe-health", folder.path + "/missing.csv"]).status == 2)
    }

    /// Copies a submission and writes `answers.jsonl` beside its maps: the questions in id order,
    /// the first unanswered, every third after it wrong (the other of yes and no), the rest right.
    /// Returns the copy's path and the ids answered right and wrong.
    func submissionWithAnswers(release: String, from maps: String, to copy: String) throws -> (
        path: String, right: Set<String>, wrong: Set<String>, questions: Int
    ) {
        try FileManager.default.copyItem(atPath: maps, toPath: copy)
        var rows: [[String: Any]] = []
        for split in ["test", "train"] {
            for line in try String(contentsOfFile: "\(release)/\(split).jsonl", encoding: .utf8).split(separator: "\n") {
                rows.append(try CLI.json(String(line)))
            }
        }
        rows.sort { ($0["id"] as! String) < ($1["id"] as! String) }
        var answers = ""
        var right = Set<String>(), wrong = Set<String>()
        for (index, row) in rows.enumerated() where index > 0 {
            let id = row["id"] as! String
            let expected = (row["answer"] as! String).lowercased()
            let isWrong = index % 3 == 0
            let given = isWrong ? (expected == "yes" ? "No." : "Yes.") : expected.capitalized + "."
            answers += "{\"id\": \"\(id)\", \"answer\": \"\(given)\", \"normalized\": null}\n"
            if isWrong { wrong.insert(id) } else { right.insert(id) }
        }
        _ = FileManager.default.createFile(atPath: copy + "/answers.jsonl", contents: Data(answers.utf8))
        return (copy, right, wrong, rows.count)
    }

    @Test("4 shards scored by 4 processes merge into results byte-identical to one run; bad shard sets are refused")
    func shardsMergeToTheUnshardedRun() throws {
        let folder = TemporaryFolder()
        let demo = try CLI.run(["demo", folder.path + "/demo", "--json"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let release = folder.path + "/demo/exports/jsonl-1.0.0"
        // With the model's answers: the judged answers are merged too.
        let attention = try submissionWithAnswers(
            release: release, from: folder.path + "/demo/attention/attends-elsewhere", to: folder.path + "/answered"
        ).path
        let common = [
            "score", release, "--attention", attention, "--bootstrap", "250", "--per-head", "--scores-format", "rows",
            "--seed", "9",
        ]
        #expect(try CLI.run(common + ["--out", folder.path + "/full"]).status == 0)
        // Four processes at once, as an array job runs them.
        var processes: [Process] = []
        for k in 0..<4 {
            let process = CLI.start(common + ["--out", "\(folder.path)/shards/\(k)", "--shard", "\(k)/4", "--json"])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        for process in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let shards = (0..<4).map { "\(folder.path)/shards/\($0)" }
        let merged = try CLI.run(["score", "merge"] + shards.reversed() + ["--out", folder.path + "/merged", "--json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        try validateAgainstSchema("score-summary", merged.stdout)
        for file in ["scores.csv", "scores.jsonl", "answers-judged.jsonl", "summary.json", "summary.svg"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/full/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/merged/" + file))
            #expect(!a.isEmpty && a == b, "\(file) differs between the merge and the unsharded run")
        }
        try validateAgainstSchema(
            "answers-judged-line", try String(contentsOfFile: folder.path + "/merged/answers-judged.jsonl", encoding: .utf8),
            lines: true)
        // Every share is scored once: the shards' rows add up to the whole.
        let rows = try shards.map {
            try String(contentsOfFile: $0 + "/scores.jsonl", encoding: .utf8).split(separator: "\n").count
        }
        let whole = try String(contentsOfFile: folder.path + "/full/scores.jsonl", encoding: .utf8).split(separator: "\n").count
        #expect(rows.reduce(0, +) == whole)

        // A missing, a duplicated and a mismatched shard: refused by name, nothing written.
        let missing = try CLI.run(["score", "merge"] + shards.dropLast() + ["--out", folder.path + "/m1", "--json"])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("shard_missing") && missing.stdout.contains("3/4"))
        try validateAgainstSchema("error-report", missing.stdout)
        let duplicated = try CLI.run(["score", "merge"] + shards + [shards[1], "--out", folder.path + "/m2"])
        #expect(duplicated.status == 1)
        #expect(duplicated.stderr.contains("given twice"))
        let other = folder.path + "/other-2"
        #expect(try CLI.run(common.dropLast(2) + ["--seed", "10", "--out", other, "--shard", "2/4"]).status == 0)
        let mismatched = try CLI.run(["score", "merge", shards[0], shards[1], other, shards[3], "--out", folder.path + "/m3"])
        #expect(mismatched.status == 1)
        #expect(mismatched.stderr.contains("other-2") && mismatched.stderr.contains("other scoring options"))
        let notAShard = try CLI.run(["score", "merge", folder.path + "/full", "--out", folder.path + "/m4"])
        #expect(notAShard.status == 1)
        for out in ["m1", "m2", "m3", "m4"] { #expect(!FileManager.default.fileExists(atPath: folder.path + "/" + out)) }
        #expect(try CLI.run(common + ["--out", folder.path + "/bad", "--shard", "4/4"]).status == 64)

        // The compact form: 3 shards merge into arrays and an index byte-identical to one run's.
        let compact = ["score", release, "--attention", attention, "--bootstrap", "250", "--per-head", "--seed", "9"]
        #expect(try CLI.run(compact + ["--out", folder.path + "/full-compact"]).status == 0)
        let compactShards = (0..<3).map { "\(folder.path)/compact/\($0)" }
        for (k, shard) in compactShards.enumerated() {
            #expect(try CLI.run(compact + ["--out", shard, "--shard", "\(k)/3"]).status == 0)
        }
        let mergedCompact = try CLI.run(["score", "merge"] + compactShards + ["--out", folder.path + "/merged-compact"])
        #expect(mergedCompact.status == 0, "\(mergedCompact.stderr)")
        for file in [
            "scores.npy", "scores-notes.npy", "scores-index.json", "answers-judged.jsonl", "summary.json", "summary.svg",
        ] {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/full-compact/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/merged-compact/" + file))
            #expect(!a.isEmpty && a == b, "\(file) differs between the compact merge and the unsharded run")
        }
        // The summary is the rows run's but for the list of files.
        let rowsSummary = try CLI.json(
            try String(contentsOfFile: folder.path + "/full/summary.json", encoding: .utf8))
        let compactSummary = try CLI.json(
            try String(contentsOfFile: folder.path + "/full-compact/summary.json", encoding: .utf8))
        #expect(
            compactSummary["files"] as? [String] == [
                "scores.npy", "scores-notes.npy", "scores-index.json", "answers-judged.jsonl", "summary.json", "summary.svg",
            ])
        #expect(
            NSDictionary(dictionary: rowsSummary.filter { $0.key != "files" })
                == NSDictionary(dictionary: compactSummary.filter { $0.key != "files" }))
        // Shards written in two forms are not one run.
        let rowsShard = folder.path + "/rows-2of3"
        #expect(try CLI.run(common + ["--out", rowsShard, "--shard", "2/3"]).status == 0)
        let formMismatch = try CLI.run(
            ["score", "merge", compactShards[0], compactShards[1], rowsShard, "--out", folder.path + "/m6"])
        #expect(formMismatch.status == 1)
        #expect(formMismatch.stderr.contains("scores written as rows vs compact"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/m6"))
    }

    @Test("answers.jsonl beside the maps: accuracy by group, grounding split by right and wrong, kept by shards")
    func answersAreJudgedAndSplitTheGrounding() throws {
        let folder = TemporaryFolder()
        let demo = try CLI.run(["demo", folder.path + "/demo", "--json"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let release = folder.path + "/demo/exports/jsonl-1.0.0"
        // Every third question answered wrong (the other yes/no), the rest right; one unanswered.
        let planted = try submissionWithAnswers(
            release: release, from: folder.path + "/demo/attention/attends-to-target", to: folder.path + "/with-answers")
        let submission = planted.path
        let rightIDs = planted.right
        let right = planted.right.count, wrong = planted.wrong.count
        let scored = try CLI.run([
            "score", release, "--attention", submission, "--out", folder.path + "/r", "--bootstrap", "50", "--json",
            "--scores-format", "rows",
        ])
        #expect(scored.status == 0, "\(scored.stderr)")
        try validateAgainstSchema("score-summary", scored.stdout)
        let summary = try CLI.json(scored.stdout)
        let tally = try #require(summary["answers"] as? [String: Any])
        #expect(tally["questions"] as? Int == planted.questions)
        #expect(tally["answered"] as? Int == right + wrong)
        #expect(tally["correct"] as? Int == right)
        #expect(tally["rule"] as? String == "answer-match@1")
        // The grounding split: the attention ratio's per-layer mean over the right answers is the
        // mean of those questions' rows.
        let breakdown = try #require((summary["breakdowns"] as? [String: Any])?["answer"] as? [[String: Any]])
        let rightGroup = try #require(breakdown.first { $0["group"] as? String == "right" })
        let metric = try #require((summary["metrics"] as? [[String: Any]])?.first?["id"] as? String)
        let firstLayer = try #require(((summary["parameters"] as? [String: Any])?["layers"] as? [Int])?.first)
        var values: [Double] = []
        for line in try String(contentsOfFile: folder.path + "/r/scores.jsonl", encoding: .utf8).split(separator: "\n") {
            let row = try CLI.json(String(line))
            if rightIDs.contains(row["question"] as? String ?? ""), row["metric"] as? String == metric,
                row["layer"] as? Int == firstLayer, let value = row["value"] as? Double
            {
                values.append(value)
            }
        }
        let expectedMean = values.reduce(0, +) / Double(values.count)
        let mean = try #require(((rightGroup["means"] as? [String: Any])?[metric] as? [Any])?.first as? Double)
        #expect(abs(mean - expectedMean) < 1e-9 * max(1, abs(expectedMean)))
        #expect(rightGroup["n"] as? Int == values.count)
        // Sharded, the answers survive the merge byte for byte.
        for k in 0..<3 {
            let shard = try CLI.run(
                [
                    "score", release, "--attention", submission, "--out", "\(folder.path)/s\(k)", "--bootstrap", "50", "--shard",
                    "\(k)/3", "--scores-format", "rows",
                ])
            #expect(shard.status == 0, "\(shard.stderr)")
        }
        #expect(
            try CLI.run([
                "score", "merge", folder.path + "/s0", folder.path + "/s1", folder.path + "/s2", "--out", folder.path + "/m",
            ])
            .status == 0)
        for file in ["summary.json", "answers-judged.jsonl"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/r/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/m/" + file))
            #expect(!a.isEmpty && a == b, "\(file) differs between the merge and the unsharded run")
        }
        // A shard without its judged answers (as an older groundwork wrote them): refused by name.
        try FileManager.default.removeItem(atPath: folder.path + "/s2/answers-judged.jsonl")
        let incomplete = try CLI.run([
            "score", "merge", folder.path + "/s0", folder.path + "/s1", folder.path + "/s2", "--out", folder.path + "/m2",
        ])
        #expect(incomplete.status == 1 && incomplete.stderr.contains("s2/answers-judged.jsonl"), "\(incomplete.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/m2"))
        // The judged answers: one line per answered question, right and wrong as planted.
        let judged = try String(contentsOfFile: folder.path + "/r/answers-judged.jsonl", encoding: .utf8)
        try validateAgainstSchema("answers-judged-line", judged, lines: true)
        var judgedRight = Set<String>(), judgedWrong = Set<String>()
        for line in judged.split(separator: "\n") {
            let row = try CLI.json(String(line))
            if row["correct"] as? Bool == true { judgedRight.insert(row["id"] as! String) }
            if row["correct"] as? Bool == false { judgedWrong.insert(row["id"] as! String) }
        }
        #expect(judgedRight == planted.right && judgedWrong == planted.wrong)

        // Compare with the looking-elsewhere model answering the same way but for one more
        // question answered wrong: paired by question in text and JSON.
        var other = try submissionWithAnswers(
            release: release, from: folder.path + "/demo/attention/attends-elsewhere", to: folder.path + "/other-answers")
        let flipped = try #require(planted.right.sorted().first)
        let otherAnswers = try String(contentsOfFile: other.path + "/answers.jsonl", encoding: .utf8)
        let flippedLine = try #require(otherAnswers.split(separator: "\n").first { $0.contains("\"\(flipped)\"") })
        let flippedAnswer = flippedLine.contains("\"Yes.\"") ? "No." : "Yes."
        let flippedText = otherAnswers.replacingOccurrences(
            of: String(flippedLine), with: "{\"id\": \"\(flipped)\", \"answer\": \"\(flippedAnswer)\"}")
        _ = FileManager.default.createFile(atPath: other.path + "/answers.jsonl", contents: Data(flippedText.utf8))
        other.right.remove(flipped)
        let otherScored = try CLI.run([
            "score", release, "--attention", other.path, "--out", folder.path + "/o", "--bootstrap", "50",
        ])
        #expect(otherScored.status == 0, "\(otherScored.stderr)")
        let compared = try CLI.run(["compare", folder.path + "/r", folder.path + "/o", "--json"])
        #expect(compared.status == 0, "\(compared.stderr)")
        try validateAgainstSchema("compare-report", compared.stdout)
        let pairing = try #require(
            (try CLI.json(compared.stdout)["answers"] as? [String: Any])?["pairing"] as? [String: Any])
        #expect(pairing["both_right"] as? Int == right - 1 && pairing["only_a_right"] as? Int == 1)
        #expect(pairing["only_b_right"] as? Int == 0 && pairing["both_wrong"] as? Int == wrong)
        #expect(pairing["mcnemar_p"] as? Double == 1)
        let text = try CLI.run(["compare", folder.path + "/r", folder.path + "/o"])
        #expect(text.status == 0 && text.stdout.contains("McNemar exact p = 1.0000"), "\(text.stdout)")
        // Against a run without answers: said plainly.
        let plain = try CLI.run(["compare", folder.path + "/r", folder.path + "/demo/scores/attends-elsewhere"])
        #expect(plain.status == 0 && plain.stdout.contains("B was scored without answers"), "\(plain.stdout)")
        // A damaged answers.jsonl: exit 1, named line, nothing written.
        _ = FileManager.default.createFile(atPath: submission + "/answers.jsonl", contents: Data("{\"id\": 1}\n".utf8))
        let bad = try CLI.run(["score", release, "--attention", submission, "--out", folder.path + "/bad"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("answers.jsonl: line 1"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/bad"))
    }
}
