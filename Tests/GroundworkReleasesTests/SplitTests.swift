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
