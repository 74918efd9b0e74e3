import Foundation
import GRDB
import GroundworkCore
import GroundworkReleases
import GroundworkStore
import Testing

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
}
