import Foundation
import GRDB
import GroundworkCore
import GroundworkStore
import Testing

@testable import GroundworkReleases

@Suite struct ReleaseTests {
    /// A project of 8 patients × 2 images, annotated, split 50/50 by patient.
    private func makeProject(_ folder: TemporaryFolder, license: String? = "CC0-1.0") throws -> Project {
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<16).map { SampleImage(patient: "P\($0 / 2)", content: $0) }, into: project, folder: folder.path, license: license
        )
        try TestProjects.annotateEveryImage(project)
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .patient, stratify: [], seed: 3))
        return project
    }

    private func codes(_ body: () throws -> Void) -> [String] {
        do {
            try body()
            return []
        } catch let error as DiagnosticsError {
            return error.diagnostics.map(\.code)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func releaseFreezesContentAgainstLaterEdits() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder)
        let created = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        #expect(created.splits.map(\.images).reduce(0, +) == 16)
        #expect(created.splits.map(\.questions).reduce(0, +) == 32)
        // Edit a region and a question, reject another region: the release does not move.
        try project.database.write { db in
            try db.execute(sql: "UPDATE region SET x1 = 30, geometry = '{\"box\":[4,4,30,24],\"type\":\"box\"}' WHERE id = 1")
            try db.execute(sql: "UPDATE vqa_item SET question = 'Edited?' WHERE id = 1")
            try db.execute(sql: "UPDATE region SET status = 'rejected' WHERE id = 2")
        }
        let shown = try ReleaseCatalog.show(project, version: "1.0.0")
        #expect(shown == created)
        // The database itself refuses to change released rows.
        for sql in [
            "UPDATE release_region SET x1 = 99", "DELETE FROM release_vqa", "UPDATE release SET notes = 'x'",
            "DELETE FROM release", "UPDATE release_image SET split = 'train'",
        ] {
            #expect(throws: DatabaseError.self) { try project.database.write { db in try db.execute(sql: sql) } }
        }
        // The next release holds the edits, and the diff names them.
        try project.database.write { db in try db.execute(sql: "UPDATE vqa_item SET groundable = 0 WHERE id = 3") }
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(bump: .minor))
        let diff = try ReleaseCatalog.diff(project, from: "1.0.0", to: "1.1.0")
        let changedRegions = diff.splits.flatMap(\.regions.changed)
        let removedRegions = diff.splits.flatMap(\.regions.removed)
        let changedQuestions = diff.splits.flatMap(\.questions.changed)
        #expect(changedRegions == [1])
        #expect(removedRegions == [2])
        #expect(changedQuestions.contains(1))
        #expect(!diff.identical)
        #expect(try ReleaseCatalog.diff(project, from: "1.0.0", to: "1.0.0").identical)
        #expect(try ReleaseCatalog.list(project).map(\.version) == ["1.0.0", "1.1.0"])
    }

    @Test func versionsMustGrow() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder)
        _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.2.0")))
        #expect(
            codes { _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.2.0"))) } == [
                "version_not_greater"
            ])
        #expect(
            codes { _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.1.9"))) } == [
                "version_not_greater"
            ])
        let bumped = try ReleaseBuilder.create(project, request: ReleaseRequest(bump: .major))
        #expect(bumped.version == "2.0.0")
    }

    @Test func everyGateIsReportedAndNothingIsWritten() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder, license: nil)
        try project.database.write { db in
            try db.execute(sql: "UPDATE image SET review_flag = 'flagged', review_reason = 'ultrasound' WHERE id = 1")
            try db.execute(sql: "UPDATE region SET status = 'rejected' WHERE image_id = 2")
        }
        // New images after the split: not placed.
        try TestProjects.importImages([SampleImage(patient: "new", content: 99)], into: project, folder: folder.path)
        let found = codes { _ = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0"))) }
        #expect(Set(found) == ["missing_license", "flagged_for_review", "unplaced_images", "groundable_without_region"])
        #expect(try project.scalar("SELECT COUNT(*) FROM release") == 0)
        #expect(try project.scalar("SELECT COUNT(*) FROM release_image") == 0)
        // A source licence and a review clear the licence and flag gates.
        _ = try SourcePolicy.set(project, name: "test-source", license: "CC-BY-4.0", restricted: nil, citation: nil)
        try project.database.write { db in
            try db.execute(sql: "UPDATE image SET review_flag = 'cleared' WHERE id = 1")
            try db.execute(sql: "UPDATE region SET status = 'draft' WHERE image_id = 2")
        }
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .patient, stratify: [], seed: 3))
        let release = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        // The source licence covers the unlicensed images; the late image keeps its own.
        #expect(release.sources.map(\.license) == ["CC-BY-4.0", "CC0-1.0"])
        #expect(release.sources.map(\.images) == [16, 1])
    }

    @Test func leakageIsAnErrorUnlessWaivedAndTheWaiverIsRecorded() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<10).map { SampleImage(patient: "same", content: $0) }, into: project, folder: folder.path)
        _ = try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: .image, stratify: [], seed: 3))
        #expect(codes { _ = try ReleaseBuilder.create(project, request: ReleaseRequest()) } == ["leakage"])
        let release = try ReleaseBuilder.create(
            project, request: ReleaseRequest(leakageWaiver: "one phantom patient, by design"))
        #expect(release.parameters.leakageWaiver == "one phantom patient, by design")
        #expect(release.leakage.patientLeaks.count == 1)
        #expect(release.version == "1.0.0")
    }

    @Test func whereFilterAndNoSplitMakeATestOnlyRelease() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<6).map { SampleImage(patient: "P\($0)", modality: $0 < 4 ? "CT" : "MR", content: $0) }, into: project,
            folder: folder.path)
        let release = try ReleaseBuilder.create(
            project, request: ReleaseRequest(filter: try ImageFilter.parse("modality=MR")))
        #expect(release.splits.map(\.split) == ["test"])
        #expect(release.splits[0].images == 2)
        #expect(throws: DiagnosticsError.self) { try ImageFilter.parse("colour=red") }
    }

    @Test func contentHashIsTheSameForTheSameContent() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder)
        let a = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        let b = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.1")))
        #expect(a.contentHash == b.contentHash)
        try project.database.write { db in try db.execute(sql: "UPDATE vqa_item SET answer = 'no' WHERE id = 1") }
        let c = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.2")))
        #expect(c.contentHash != a.contentHash)
    }

    /// The content hash sorts its lines on disk past a memory budget: a budget of a few bytes
    /// (a run per line) gives the hash of the release created with the default budget.
    @Test func contentHashSortedOnDiskIsTheSame() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder)
        let release = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        let hashes = try project.database.write { db in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM release WHERE version = '1.0.0'")!
            return try [1, 64, 4096].map { try ReleaseBuilder.contentHash(db, releaseId: id, sortBudget: $0) }
        }
        #expect(hashes == Array(repeating: release.contentHash, count: 3))
    }

    /// A sort run that cannot be written (its folder is gone) fails the hash with the folder
    /// named, on the thread that formats regions and questions as on the one that reads images.
    @Test func contentHashFailsCleanlyWhenItsSortRunsCannotBeWritten() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder)
        let release = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        try project.database.read { db in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM release WHERE version = '1.0.0'")!
            #expect(try ReleaseBuilder.digest(db, releaseId: id, sortBudget: 1).hash == release.contentHash)
            for budget in [1, 4096] {
                do {
                    _ = try ReleaseBuilder.digest(db, releaseId: id, sortBudget: budget, sortFolder: folder.path + "/gone")
                    Issue.record("a hash whose runs cannot be written succeeded (budget \(budget))")
                } catch let error as FileIOError {
                    #expect(error.path.hasSuffix("/gone"))
                }
            }
        }
    }

    /// The content hash is the "v2" text the doc comment of `ReleaseBuilder.contentHash` states,
    /// recomputed here by an independent reader of the database (Python's sqlite3 and hashlib):
    /// escaped text (tab, newline, backslash, non-ASCII), doubles at 17 significant digits, NULLs,
    /// a question with two target regions, a question with a target on another image.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil, "set GROUNDWORK_PYTHON"))
    func contentHashIsTheStatedText() throws {
        let folder = TemporaryFolder()
        let project = try makeProject(folder)
        try project.database.write { db in
            try db.execute(sql: "UPDATE vqa_item SET question = ? WHERE id = 1", arguments: ["Where\tis the\nliver \\ é 肝?"])
            try db.execute(sql: "UPDATE vqa_item SET answer = ? WHERE id = 3", arguments: ["a\\b"])
            try db.execute(sql: "UPDATE region SET x0 = ?, y0 = ? WHERE id = 2", arguments: [0.1 + 0.2, 1e-7])
            try db.execute(
                sql: """
                    INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, batch_id,
                        created_at)
                    SELECT image_id, label_id, kind, '{"box":[5,5,21.5,24],"type":"box"}', -1, 5, 5, 21.5, 24, 313.5,
                        batch_id, created_at
                    FROM region WHERE id = 1
                    """)
            try db.execute(sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (1, ?)", arguments: [db.lastInsertedRowID])
            // A damaged project: a target on another image than its question's (the schema's
            // trigger forbids it), hashed by the region's own key all the same.
            try db.execute(sql: "DROP TRIGGER vqa_target_same_image")
            try db.execute(
                sql: """
                    INSERT INTO vqa_target (vqa_id, region_id)
                    SELECT 2, MIN(r.id) FROM region r WHERE r.image_id != (SELECT image_id FROM vqa_item WHERE id = 2)
                    """)
        }
        let release = try ReleaseBuilder.create(project, request: ReleaseRequest(version: SemanticVersion("1.0.0")))
        let script = #"""
            import hashlib, json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            rid = db.execute("SELECT id FROM release WHERE version = '1.0.0'").fetchone()[0]
            def canon(v):
                if v is None: return "\\N"
                if isinstance(v, int): return str(v)
                if isinstance(v, float): return "%.17g" % v
                if isinstance(v, bytes): return v.hex()
                return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            def lines(sql, make=lambda row: "\t".join(map(canon, row))):
                return sorted((make(row) for row in db.execute(sql, (rid,))), key=lambda s: s.encode())
            images = lines("""SELECT sha256, split, format, byte_size, width, height, modality, body_part, patient_id,
                study_id, source, license, restricted, attributes, render FROM release_image WHERE release_id = ?""")
            labels = lines("""SELECT name, display_name, synonyms, parent, category, radlex, snomed
                FROM release_label WHERE release_id = ?""")
            keys = {}
            def region(row):
                line = "\t".join(map(canon, row[1:]))
                keys[row[0]] = hashlib.sha256(line.encode()).hexdigest()
                return line
            regions = lines("""SELECT r.region_id, i.sha256, l.name, r.kind, r.geometry, r.x0, r.y0, r.x1, r.y1, r.area,
                r.annotator, r.status, r.consensus_method, r.iscrowd FROM release_region r
                JOIN release_image i ON i.release_id = r.release_id AND i.image_id = r.image_id
                JOIN release_label l ON l.release_id = r.release_id AND l.label_id = r.label_id
                WHERE r.release_id = ?""", region)
            def question(row):
                targets = ",".join(sorted(keys.get(i, "?") for i in json.loads(row[0])))
                return "\t".join(list(map(canon, row[1:])) + [targets])
            questions = lines("""SELECT v.region_ids, i.sha256, v.question, v.answer, v.answer_type, v.options,
                v.correct_option, v.question_type, l.name, v.groundable, v.language, v.template_id, v.annotator, v.status
                FROM release_vqa v JOIN release_image i ON i.release_id = v.release_id AND i.image_id = v.image_id
                LEFT JOIN release_label l ON l.release_id = v.release_id AND l.label_id = v.label_id
                WHERE v.release_id = ?""", question)
            assert any(len(json.loads(r[0])) == 2 for r in db.execute("SELECT region_ids FROM release_vqa")), "two targets"
            assert db.execute("""SELECT COUNT(*) FROM release_vqa v JOIN json_each(v.region_ids) t
                JOIN release_region r ON r.release_id = v.release_id AND r.region_id = t.value
                WHERE r.image_id != v.image_id""").fetchone()[0] == 1, "a target on another image"
            assert any("\t" in r[0] for r in db.execute("SELECT question FROM release_vqa")), "a tab"
            h = hashlib.sha256(b"groundwork release content v2\n")
            for name, table in (("images", images), ("labels", labels), ("regions", regions), ("questions", questions)):
                h.update(f"{name} {len(table)}\n".encode())
                for line in table:
                    h.update((line + "\n").encode())
            print(h.hexdigest())
            """#
        let result = try runPython(script, [folder.path + "/p/groundwork.sqlite"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == release.contentHash)
    }
}
