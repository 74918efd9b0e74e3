import Foundation
import GRDB
import GroundworkCore
import GroundworkReleases
import GroundworkStore
import Testing

@Suite struct SplitTests {
    private func parameters(
        _ ratios: String = "train=0.6,val=0.2,test=0.2", groupBy: SplitGrouping = .patient, stratify: [StratifyField] = [],
        seed: UInt64 = 7
    ) throws -> SplitParameters {
        SplitParameters(name: "default", parts: try SplitPart.parse(ratios), groupBy: groupBy, stratify: stratify, seed: seed)
    }

    /// Image id → part, and patient → parts, read back from the database.
    private func placements(_ project: Project) throws -> (images: [Int64: String], patients: [String: Set<String>]) {
        try project.database.read { db in
            let parts = try SplitScope.named(db, "default").partOfImage(db)
            var patients: [String: Set<String>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, patient_id FROM image WHERE patient_id IS NOT NULL") {
                if let part = parts[row["id"]] { patients[row["patient_id"], default: []].insert(part) }
            }
            return (parts, patients)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func aPatientNeverLandsInTwoParts(seed: UInt64) throws {
        // Random projects: random patient counts, images per patient and modalities.
        var rng = SplitMix64(seed: seed)
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        var samples: [SampleImage] = []
        var content = Int(seed) * 1000
        for patient in 0..<Int.random(in: 5...25, using: &rng) {
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                content += 1
                samples.append(
                    SampleImage(
                        patient: "P\(patient)", modality: ["CT", "MR", "DX"].randomElement(using: &rng)!, content: content))
            }
        }
        try TestProjects.importImages(samples, into: project, folder: folder.path)
        let report = try Splitter.run(project, parameters: try parameters(stratify: [.modality], seed: seed))
        let (images, patients) = try placements(project)
        #expect(images.count == samples.count)
        #expect(patients.values.allSatisfy { $0.count == 1 })
        #expect(report.leakage.patientLeaks.isEmpty)
        #expect(report.parts.map(\.images).reduce(0, +) == samples.count)
    }

    @Test func sameSeedSamePlacementOtherSeedOtherPlacement() throws {
        let folder = TemporaryFolder()
        var results: [[Int64: String]] = []
        for seed: UInt64 in [11, 11, 12] {
            let project = try Project.create(at: folder.path + "/p\(results.count)")
            try TestProjects.importImages(
                (0..<40).map { SampleImage(patient: "P\($0)", content: $0) }, into: project, folder: folder.path)
            _ = try Splitter.run(project, parameters: try parameters("train=0.5,test=0.5", seed: seed))
            results.append(try placements(project).images)
        }
        #expect(results[0] == results[1])
        #expect(results[0] != results[2])
    }

    @Test func rerunAfterAnImportKeepsEveryEarlierAssignment() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<30).map { SampleImage(patient: "P\($0 % 10)", content: $0) }, into: project, folder: folder.path)
        _ = try Splitter.run(project, parameters: try parameters())
        let before = try placements(project).images
        // New patients, and new images of known patients.
        try TestProjects.importImages(
            (30..<60).map { SampleImage(patient: "P\($0 % 20)", content: $0) }, into: project, folder: folder.path)
        let report = try Splitter.run(project, parameters: try parameters())
        let after = try placements(project)
        for (image, part) in before { #expect(after.images[image] == part) }
        #expect(after.images.count == 60)
        #expect(report.kept == 10)
        #expect(report.placed == 10)
        #expect(after.patients.values.allSatisfy { $0.count == 1 })
    }

    @Test func changedParametersNeedReshuffle() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<12).map { SampleImage(patient: "P\($0)", content: $0) }, into: project, folder: folder.path)
        _ = try Splitter.run(project, parameters: try parameters("train=0.5,test=0.5"))
        #expect(throws: DiagnosticsError.self) {
            try Splitter.run(project, parameters: try parameters("train=0.8,test=0.2"))
        }
        let report = try Splitter.run(project, parameters: try parameters("train=0.75,test=0.25"), reshuffle: true)
        #expect(report.kept == 0)
        #expect(report.placed == 12)
        #expect(report.parts.first { $0.name == "train" }?.images == 9)
    }

    @Test func stratifiedPartsFollowTheTargetsInEveryStratum() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        // 40 CT patients and 20 MR patients, one image each.
        let samples = (0..<60).map { SampleImage(patient: "P\($0)", modality: $0 < 40 ? "CT" : "MR", content: $0) }
        try TestProjects.importImages(samples, into: project, folder: folder.path)
        let report = try Splitter.run(project, parameters: try parameters("train=0.5,test=0.5", stratify: [.modality]))
        #expect(report.strata.map(\.stratum) == ["modality=CT", "modality=MR"])
        for stratum in report.strata {
            for share in stratum.parts { #expect(abs(share.achieved - share.target) <= 1.0 / Double(stratum.images)) }
        }
    }

    /// A group's stratum counts its regions' labels and its questions' target labels and types
    /// (rejected ones left out): the most frequent value wins.
    @Test func strataCountLabelsOfRegionsAndQuestionsAndQuestionTypes() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        // 30 patients, two images each; every image has a liver region and a question on it (liver 4
        // a patient), even patients also three spleen regions an image (spleen 6), P0's rejected.
        let samples = (0..<60).map { SampleImage(patient: "P\($0 / 2)", content: $0) }
        try TestProjects.importImages(samples, into: project, folder: folder.path)
        try TestProjects.annotateEveryImage(project)
        try project.database.write { db in
            try db.execute(sql: "INSERT INTO label (name, display_name) VALUES ('spleen', 'Spleen')")
            let images = try Row.fetchAll(db, sql: "SELECT id, patient_id FROM image ORDER BY id")
            for image in images {
                let patient = Int((image["patient_id"] as String).dropFirst())!
                guard patient % 2 == 0 else { continue }
                for copy in 0..<3 {
                    try db.execute(
                        sql: """
                            INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area,
                                batch_id, created_at, status)
                            SELECT ?, (SELECT id FROM label WHERE name = 'spleen'), 'box', geometry, ?, x0, y0, x1, y1,
                                area, batch_id, created_at, ? FROM region WHERE image_id = ? LIMIT 1
                            """,
                        arguments: [image["id"], -1 - copy, patient == 0 ? "rejected" : "draft", image["id"]])
                }
            }
        }
        let report = try Splitter.run(
            project, parameters: try parameters("train=0.5,test=0.5", stratify: [.label, .questionType]))
        #expect(
            report.strata.map(\.stratum) == ["label=liver|question_type=localization", "label=spleen|question_type=localization"])
        // Odd patients and P0 are liver (16 groups, 32 images), the other even ones spleen (14, 28).
        #expect(report.strata.map(\.groups) == [16, 14])
        #expect(report.strata.map(\.images) == [32, 28])
        for stratum in report.strata {
            for share in stratum.parts { #expect(abs(share.achieved - share.target) <= 2.0 / Double(stratum.images)) }
        }
        let regions: Int = report.parts.map(\.regions).reduce(0, +)
        let questions: Int = report.parts.map(\.questions).reduce(0, +)
        #expect(regions == 144)  // 60 liver regions and 28 images × 3 spleen regions not rejected
        #expect(questions == 120)
        #expect(try placements(project).patients.values.allSatisfy { $0.count == 1 })
    }

    @Test func imagesWithoutPatientAreGroupsOfTheirOwn() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            [
                SampleImage(patient: nil, content: 1), SampleImage(patient: nil, content: 2),
                SampleImage(patient: "A", content: 3),
            ],
            into: project, folder: folder.path)
        let report = try Splitter.run(project, parameters: try parameters("test=1"))
        #expect(report.ungroupedImages == 2)
        #expect(report.groups == 3)
        #expect(report.parts.map(\.name) == ["test"])
        #expect(report.parts.map(\.images) == [3])
        #expect(report.parts.map(\.achieved) == [1])
    }

    @Test(arguments: ["train=0.7,test=0.2", "train=0.7,train=0.3", "Train=1", "train=x", "train", "a=0,b=1", ""])
    func malformedRatiosAreErrors(_ text: String) {
        #expect(throws: DiagnosticsError.self) { try SplitPart.parse(text) }
    }

    @Test func ratiosParseInOrder() throws {
        let parts = try SplitPart.parse("train=0.7, val=0.1,test=0.2")
        #expect(parts.map(\.name) == ["train", "val", "test"])
        #expect(parts.map(\.ratio) == [0.7, 0.1, 0.2])
    }
}
